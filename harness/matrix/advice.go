package matrix

import (
	"sort"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Advice is what a reader should do about one resource kind. The claim
// (safe, unsafe under fork on which versions) is derived from the cells
// alone; only the remedy named after it is fixed per kind.
type Advice struct {
	Kind scenario.Kind `json:"kind"`
	Text string        `json:"advice"`
}

// remedies says how to avoid a kind's fork deadlock, once the data shows one.
var remedies = map[scenario.Kind]string{
	scenario.Lock:           "use spawn or forkserver, or do not hold it in a thread across a fork (or reset it in os.register_at_fork(after_in_child=...))",
	scenario.RLock:          "use spawn or forkserver, or do not hold it in another thread across a fork",
	scenario.Condition:      "use spawn or forkserver, or do not hold its lock in a thread across a fork",
	scenario.Semaphore:      "use spawn or forkserver, or do not hold it in a thread across a fork",
	scenario.Queue:          "use spawn or forkserver, or give the child a multiprocessing queue instead",
	scenario.LoggingHandler: "use spawn or forkserver, or do not log from threads around a fork",
	scenario.LoggingModule:  "use spawn or forkserver, or do not configure logging from a thread while forking",
	scenario.BufferedWriter: "use spawn or forkserver, or do not write from threads around a fork",
	scenario.Module:         "use spawn or forkserver, or finish imports before starting threads",
	scenario.SQLite:         "use spawn or forkserver, or open a new connection in the child",
	scenario.Executor:       "use spawn or forkserver, or create a new executor in the child",
}

// rowState is one row on one version: how its methods ended.
type rowState struct {
	forkOnly bool // stuck under fork, not under some other method run
	allStuck bool // stuck under every method run (two or more)
	other    bool // stuck under spawn or forkserver, not under every method
	failed   bool // an err or crash cell
	ran      bool
}

func (m *Matrix) state(r Row, python string) rowState {
	var s rowState
	var runs, stuck int
	forkStuck, otherStuck := false, false
	for i, c := range m.Columns {
		cell := r.Cells[i]
		// The default column repeats fork's or forkserver's verdict (the
		// method the interpreter chose): advice comes from the methods.
		if c.Python != python || cell.Verdict == "" || c.Method == scenario.MethodDefault {
			continue
		}
		s.ran = true
		runs++
		if cell.Verdict == scenario.ErrorVerdict || cell.Verdict == scenario.Crash {
			s.failed = true
		}
		if !cell.stuck() {
			continue
		}
		stuck++
		if c.Method == scenario.MethodFork {
			forkStuck = true
		} else {
			otherStuck = true
		}
	}
	switch {
	case runs >= 2 && stuck == runs:
		s.allStuck = true
	default:
		s.forkOnly = forkStuck
		s.other = otherStuck
	}
	return s
}

// Advice gives one line per kind that has rows, in row order.
func (m *Matrix) Advice() []Advice {
	var out []Advice
	for _, k := range m.Kinds() {
		out = append(out, Advice{Kind: k, Text: m.adviceFor(k)})
	}
	return out
}

// versionSet collects versions and the names of the rows that put them there.
type versionSet struct {
	versions map[string]bool
	names    map[string]bool
}

func (v *versionSet) add(python, name string) {
	if v.versions == nil {
		v.versions, v.names = map[string]bool{}, map[string]bool{}
	}
	v.versions[python], v.names[name] = true, true
}

func (m *Matrix) adviceFor(k scenario.Kind) string {
	var fork, all, other, failed, ran versionSet
	unguarded := map[string]bool{}
	for _, r := range m.Rows {
		if r.Kind != k {
			continue
		}
		for _, p := range m.Pythons {
			s := m.state(r, p)
			if s.ran {
				ran.add(p, r.Name)
			}
			if s.forkOnly {
				fork.add(p, r.Name)
			}
			if s.allStuck {
				all.add(p, r.Name)
				unguarded[r.Name] = r.Unguarded
			}
			if s.other {
				other.add(p, r.Name)
			}
			if s.failed {
				failed.add(p, r.Name)
			}
		}
	}
	found := m.sorted(ran.versions)
	if len(found) == 0 {
		return "not run"
	}
	var parts []string
	if len(fork.versions) > 0 {
		t := "unsafe under fork on " + m.describe(fork.versions, found) + " (deadlock in " + names(fork.names) + ")"
		if rest := minus(found, fork.versions); len(rest) > 0 {
			t += "; no fork deadlock on " + strings.Join(rest, ", ")
		}
		rem := remedies[k]
		if rem == "" {
			rem = "use spawn or forkserver"
		}
		parts = append(parts, t+"; "+rem)
	}
	if len(all.versions) > 0 {
		t := "hangs under every start method on " + m.describe(all.versions, found) + " (" + names(all.names) + "): "
		ung, other := map[string]bool{}, map[string]bool{}
		for name := range all.names {
			if unguarded[name] {
				ung[name] = true
			} else {
				other[name] = true
			}
		}
		which := func(set map[string]bool) string { // names only where both causes are listed
			if len(ung) > 0 && len(other) > 0 {
				return " (" + names(set) + ")"
			}
			return ""
		}
		var why []string
		if len(ung) > 0 {
			why = append(why, "threads started at import time"+which(ung)+" start again in every spawn or forkserver "+
				"child, which imports the main module: start them under `if __name__ == \"__main__\":`, then spawn or forkserver is safe")
		}
		if len(other) > 0 {
			why = append(why, "a bug in the program itself"+which(other)+", which no start method avoids")
		}
		parts = append(parts, t+strings.Join(why, "; "))
	}
	if len(other.versions) > 0 {
		parts = append(parts, "stuck under spawn or forkserver on "+m.describe(other.versions, found)+" ("+names(other.names)+")")
	}
	if len(failed.versions) > 0 {
		parts = append(parts, "errors or crashes on "+m.describe(failed.versions, found)+" ("+names(failed.names)+"): see the CSV or JSON for the reason")
	}
	if len(parts) == 0 {
		return "safe: every case completed under every method run on " + m.describe(ran.versions, found)
	}
	return strings.Join(parts, "; ")
}

// describe names a set of versions, or says it is every version found.
func (m *Matrix) describe(set map[string]bool, found []string) string {
	vs := m.sorted(set)
	if len(vs) == len(found) {
		if len(vs) == 1 {
			return "the only version found (" + vs[0] + ")"
		}
		return "every version found (" + vs[0] + "-" + vs[len(vs)-1] + ")"
	}
	return strings.Join(vs, ", ")
}

func (m *Matrix) sorted(set map[string]bool) []string {
	var out []string
	for _, p := range m.Pythons {
		if set[p] {
			out = append(out, p)
		}
	}
	return out
}

func minus(all []string, set map[string]bool) []string {
	var out []string
	for _, v := range all {
		if !set[v] {
			out = append(out, v)
		}
	}
	return out
}

func names(set map[string]bool) string {
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
