package bench

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// benchCase is one library scenario under one method, rendered.
type benchCase struct {
	name    string
	program string
	method  string
	want    scenario.Verdict
}

// cases sorts the library into what each measurement runs.
type cases struct {
	// byMethod holds, per method, the scenarios expected to end in ok or a
	// proved deadlock there: an unproven hang would measure the timeout.
	byMethod map[string][]benchCase
	// deadlocks are the fork bugs proper: deadlock under fork, ok under spawn.
	deadlocks []benchCase
	// oneChildSpawn are the spawn cases that start one child (via process or
	// os.fork) and complete: what the spawn round trip floor models.
	oneChildSpawn []benchCase
}

func makeCases(library []*scenario.Scenario, version, dir string) (cases, error) {
	cs := cases{byMethod: map[string][]benchCase{}}
	for _, s := range library {
		p, err := render.Write(s, render.Options{Source: s.File})
		if err != nil {
			return cs, fmt.Errorf("render %s: %w", s.Name, err)
		}
		prog := filepath.Join(dir, s.Name+".py")
		if err := os.WriteFile(prog, p.Source, 0o644); err != nil {
			return cs, fmt.Errorf("bench: %w", err)
		}
		for _, m := range scenario.Methods {
			want, _ := s.Expected(version, m)
			if want != scenario.OK && want != scenario.Deadlock {
				continue
			}
			c := benchCase{name: s.Name, program: prog, method: m, want: want}
			cs.byMethod[m] = append(cs.byMethod[m], c)
			spawnOK, _ := s.Expected(version, scenario.MethodSpawn)
			if m == scenario.MethodFork && want == scenario.Deadlock && spawnOK == scenario.OK {
				cs.deadlocks = append(cs.deadlocks, c)
			}
			if f := s.ForkStep(); m == scenario.MethodSpawn && want == scenario.OK && f != nil && f.Fork.Via != scenario.ViaPool {
				cs.oneChildSpawn = append(cs.oneChildSpawn, c)
			}
		}
	}
	if len(cs.deadlocks) == 0 || len(cs.oneChildSpawn) == 0 {
		return cs, fmt.Errorf("bench: the library needs a scenario that deadlocks under fork only and a one-child spawn case that completes (found %d and %d)",
			len(cs.deadlocks), len(cs.oneChildSpawn))
	}
	return cs, nil
}
