package run

import (
	"os"
	"sort"
	"strings"
)

// environ is the controlled environment of a run: the current one minus
// every PYTHON* variable (PYTHONUNBUFFERED alone changes verdicts), plus the
// trace switch and no bytecode files, plus extra. It also returns the
// PYTHON* and FORKFUZZ* variables it sets, sorted, for the Result.
func environ(extra []string) (env, recorded []string) {
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHON") && !strings.HasPrefix(kv, "FORKFUZZ") {
			env = append(env, kv)
		}
	}
	set := append([]string{"FORKFUZZ_TRACE=1", "PYTHONDONTWRITEBYTECODE=1"}, extra...)
	byKey := map[string]string{}
	var order []string
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		if _, dup := byKey[k]; !dup {
			order = append(order, k)
		}
		byKey[k] = kv
	}
	final := map[string]bool{}
	for _, k := range order {
		final[k] = true
	}
	out := env[:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !final[k] { // extra overrides an inherited variable
			out = append(out, kv)
		}
	}
	for _, k := range order {
		out = append(out, byKey[k])
		if strings.HasPrefix(k, "PYTHON") || strings.HasPrefix(k, "FORKFUZZ") {
			recorded = append(recorded, byKey[k])
		}
	}
	sort.Strings(recorded)
	return out, recorded
}
