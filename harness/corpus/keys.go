package corpus

import (
	"sort"
	"strings"
)

// sortedKeys returns m's keys in order, so that every listing is stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Versions returns the Python versions e has verdicts for, oldest first.
func (e *Entry) Versions() []string {
	vs := sortedKeys(e.Meta.Verdicts)
	sort.SliceStable(vs, func(i, j int) bool { return VersionLess(vs[i], vs[j]) })
	return vs
}

// VersionLess orders Python versions by their numbers ("3.8.18" < "3.10.1"),
// then as text ("3.13.0" < "3.13.0t").
func VersionLess(a, b string) bool {
	na, nb := versionNumbers(a), versionNumbers(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	if len(na) != len(nb) {
		return len(na) < len(nb)
	}
	return a < b
}

func versionNumbers(v string) []int {
	var out []int
	for _, part := range strings.Split(v, ".") {
		n := 0
		digits := false
		for _, r := range part {
			if r < '0' || r > '9' {
				break
			}
			n, digits = n*10+int(r-'0'), true
		}
		if !digits {
			break
		}
		out = append(out, n)
	}
	return out
}
