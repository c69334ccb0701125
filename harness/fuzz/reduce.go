package fuzz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/shrink"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// ErrFlake is returned when the scenario's signature does not repeat: a
// flake is reported as one, never shrunk.
var ErrFlake = errors.New("flaky: the signature did not repeat")

// NotDeadlockError says that the scenario does not deadlock under fork, and
// what it did instead.
type NotDeadlockError struct{ Result run.Result }

func (e *NotDeadlockError) Error() string {
	msg := "does not deadlock under fork: " + string(e.Result.Verdict)
	if e.Result.Where != "" {
		msg += " (" + e.Result.Where + ")"
	}
	if e.Result.Reason != "" {
		msg += ", " + e.Result.Reason
	}
	return msg
}

// minShrinkTimeout is the least time a candidate gets to show its deadlock.
const minShrinkTimeout = 3 * time.Second

// Reduction is a scenario reduced to a minimal one with the same signature.
type Reduction struct {
	Original  *scenario.Scenario
	Minimal   *scenario.Scenario
	Signature signature.Signature
	Fork      run.Result // the minimal scenario under fork
	Spawn     run.Result // the minimal scenario under spawn: completes for a fork-only bug
	Stats     shrink.Stats
}

// Reduce minimises s under fork, keeping its signature. It runs s twice
// first (a flake is ErrFlake), then lets shrink.Minimize cut it, accepting a
// candidate only when its fork run has the same signature Key twice in a
// row. At the end the minimal scenario runs once under spawn: if that does
// not complete, the cuts made a logic deadlock, and the original is shrunk
// again with "completes under spawn" added to the predicate.
func Reduce(ctx context.Context, r *Runner, s *scenario.Scenario) (*Reduction, error) {
	start, n := time.Now(), 0
	var timeout time.Duration // the Runner's, until the first run says how long a proof takes
	runOn := func(c *scenario.Scenario, method string) (run.Result, error) {
		n++
		return r.runFor(ctx, c, method, timeout)
	}
	// sign runs c under fork and signs the result. A proved deadlock whose
	// stuck step or stack was not read (a lost dump) is run once more.
	sign := func(c *scenario.Scenario) (run.Result, signature.Signature, bool, error) {
		res, err := runOn(c, scenario.MethodFork)
		if err != nil {
			return res, signature.Signature{}, false, err
		}
		g, ok := signature.Of(c, res)
		if !ok && res.Verdict == scenario.Deadlock {
			if res, err = runOn(c, scenario.MethodFork); err != nil {
				return res, signature.Signature{}, false, err
			}
			g, ok = signature.Of(c, res)
		}
		return res, g, ok, nil
	}
	first, sig, ok, err := sign(s)
	if err != nil {
		return nil, err
	}
	switch {
	case !ok && first.Verdict == scenario.Deadlock:
		return nil, fmt.Errorf("%s: deadlocks under fork, but twice without a stuck step and stack to sign", s.Name)
	case !ok:
		return nil, &NotDeadlockError{Result: first}
	}
	// A candidate with the same bug is proved about as fast as the original;
	// only unproven hangs wait for the timeout, and they never match.
	timeout = max(minShrinkTimeout, 5*time.Duration(first.ElapsedMS*float64(time.Millisecond)))
	key := sig.Key()
	if again, g, _, err := sign(s); err != nil {
		return nil, err
	} else if g.Key() != key {
		return nil, fmt.Errorf("%s: %w (first %s, then %s)", s.Name, ErrFlake, sig, describe(s, again))
	}
	last := first
	// keep accepts a candidate whose fork run has the same signature twice
	// in a row; with spawnToo, it must also complete under spawn.
	keep := func(spawnToo bool) func(*scenario.Scenario) bool {
		return func(c *scenario.Scenario) bool {
			var res run.Result
			for i := 0; i < 2; i++ { // once, then confirmed once
				var g signature.Signature
				var err error
				if res, g, _, err = sign(c); err != nil || g.Key() != key {
					return false
				}
			}
			if spawnToo {
				if sp, err := runOn(c, scenario.MethodSpawn); err != nil || sp.Verdict != scenario.OK {
					return false
				}
			}
			last = res
			return true
		}
	}
	min, stats := shrink.Minimize(s, keep(false))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	red := &Reduction{Original: s, Minimal: min, Signature: sig, Fork: last}
	if red.Spawn, err = runOn(min, scenario.MethodSpawn); err != nil {
		return nil, err
	}
	if red.Spawn.Verdict != scenario.OK && min.Hash() != s.Hash() {
		// The cuts made a bug of the program that spawn shows too (a thread
		// that never releases logging's lock hangs the interpreter's exit):
		// shrink the original again, with spawn in the predicate.
		last = first
		again, more := shrink.Minimize(s, keep(true))
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		stats = addStats(stats, more)
		red.Minimal, red.Fork = again, last
		if red.Spawn, err = runOn(again, scenario.MethodSpawn); err != nil {
			return nil, err
		}
	}
	stats.Executions = n
	stats.Elapsed = time.Since(start)
	red.Stats = stats
	return red, nil
}

// addStats sums the stats of two minimisations.
func addStats(a, b shrink.Stats) shrink.Stats {
	a.Candidates += b.Candidates
	a.Invalid += b.Invalid
	a.Calls += b.Calls
	a.CacheHits += b.CacheHits
	a.Accepted += b.Accepted
	a.Rounds += b.Rounds
	return a
}

// describe says what a fork run did, for a flake message.
func describe(s *scenario.Scenario, res run.Result) string {
	if g, ok := signature.Of(s, res); ok {
		return g.String()
	}
	msg := string(res.Verdict)
	if res.Reason != "" {
		msg += " (" + res.Reason + ")"
	}
	return msg
}
