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
// not complete, the cuts made a logic deadlock, and the original is kept.
func Reduce(ctx context.Context, r *Runner, s *scenario.Scenario) (*Reduction, error) {
	start, n := time.Now(), 0
	runOn := func(c *scenario.Scenario, method string) (run.Result, error) {
		n++
		return r.Run(ctx, c, method)
	}
	first, err := runOn(s, scenario.MethodFork)
	if err != nil {
		return nil, err
	}
	sig, ok := signature.Of(s, first)
	if !ok {
		return nil, &NotDeadlockError{Result: first}
	}
	key := sig.Key()
	if again, err := runOn(s, scenario.MethodFork); err != nil {
		return nil, err
	} else if g, _ := signature.Of(s, again); g.Key() != key {
		return nil, fmt.Errorf("%s: %w (first %s, then %s)", s.Name, ErrFlake, sig, describe(s, again))
	}
	last := first
	keep := func(c *scenario.Scenario) bool {
		var res run.Result
		for i := 0; i < 2; i++ { // once, then confirmed once
			var err error
			if res, err = runOn(c, scenario.MethodFork); err != nil {
				return false
			}
			if g, ok := signature.Of(c, res); !ok || g.Key() != key {
				return false
			}
		}
		last = res
		return true
	}
	min, stats := shrink.Minimize(s, keep)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	red := &Reduction{Original: s, Minimal: min, Signature: sig, Fork: last}
	if min.Hash() == s.Hash() {
		red.Fork = first
	}
	red.Spawn, err = runOn(min, scenario.MethodSpawn)
	if err != nil {
		return nil, err
	}
	if red.Spawn.Verdict != scenario.OK && min.Hash() != s.Hash() {
		red.Minimal, red.Fork = s, first
		if red.Spawn, err = runOn(s, scenario.MethodSpawn); err != nil {
			return nil, err
		}
	}
	stats.Executions = n
	stats.Elapsed = time.Since(start)
	red.Stats = stats
	return red, nil
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
