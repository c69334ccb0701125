// Package shrink owns the minimiser: it reduces a scenario to a smaller one
// that a predicate still accepts. It is a pure strategy and knows nothing of
// execution; the fuzzer and `forkfuzz shrink` both pass it a predicate that
// runs the candidate and compares signatures.
package shrink

import (
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Stats says what one minimisation cost.
type Stats struct {
	Candidates int           `json:"candidates"` // candidates built, valid or not
	Invalid    int           `json:"invalid"`    // candidates that failed Validate (keep not called)
	Calls      int           `json:"calls"`      // calls of keep
	CacheHits  int           `json:"cache_hits"` // candidates already judged (same Hash)
	Accepted   int           `json:"accepted"`   // cuts kept
	Rounds     int           `json:"rounds"`     // passes over every cut; the last accepts none
	Executions int           `json:"executions"` // set by callers whose keep runs programs; 0 here
	Elapsed    time.Duration `json:"elapsed_ns"` // wall time (keep included)
}

// Minimize returns a smallest scenario that keep accepts, reached from s by
// cuts (biggest first: threads, resources, ranges of steps, single steps) and
// then simplifications (fewer pool tasks and processes, pool -> process ->
// os.fork, no exit, one executor worker). keep is only called with valid
// scenarios, at most once per distinct Hash, and s itself is taken as
// accepted. The result is 1-minimal: no single cut of it is accepted.
func Minimize(s *scenario.Scenario, keep func(*scenario.Scenario) bool) (*scenario.Scenario, Stats) {
	start := time.Now()
	m := &minimizer{keep: keep, cache: map[string]bool{}}
	cur := s.Clone()
	m.cache[cur.Hash()] = true
	for {
		m.stats.Rounds++
		accepted := false
		for _, pass := range passes {
			// After a cut is kept, the same index names the next candidate of
			// the smaller scenario, as in syzkaller's call-removal loop.
			for i := 0; ; i++ {
				cands := pass(cur)
				if i >= len(cands) {
					break
				}
				if m.try(cands[i]) {
					cur = cands[i]
					accepted = true
					i--
				}
			}
		}
		if !accepted {
			break
		}
	}
	m.stats.Elapsed = time.Since(start)
	return cur, m.stats
}

type minimizer struct {
	keep  func(*scenario.Scenario) bool
	cache map[string]bool
	stats Stats
}

// try judges one candidate: invalid ones are skipped without calling keep,
// and a candidate already judged is answered from the cache.
func (m *minimizer) try(c *scenario.Scenario) bool {
	m.stats.Candidates++
	if c.Validate() != nil {
		m.stats.Invalid++
		return false
	}
	h := c.Hash()
	if _, ok := m.cache[h]; ok {
		// Judged before: a rejection stays one, and an accepted hash is an
		// earlier (bigger or equal) scenario, so taking it again would loop.
		m.stats.CacheHits++
		return false
	}
	m.stats.Calls++
	ok := m.keep(c)
	m.cache[h] = ok
	if ok {
		m.stats.Accepted++
	}
	return ok
}
