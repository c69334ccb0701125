package fuzz

import (
	"context"

	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// Class is what the oracle made of one case.
type Class string

const (
	ClassOK      Class = "ok"       // no deadlock under fork
	ClassFinding Class = "finding"  // deadlock under fork, ok under every confirming method
	ClassKnown   Class = "known"    // deadlock under fork with a signature already recorded (not re-confirmed)
	ClassLogic   Class = "logic"    // deadlock under fork and a hang or deadlock under a confirming method
	ClassHang    Class = "hang"     // an unproven hang under fork
	ClassError   Class = "error"    // error or crash (under fork, or under a confirming method)
	ClassNoSig   Class = "nosig"    // a fork deadlock whose stuck step the trace does not name
	ClassStopped Class = "canceled" // the run was interrupted
)

// Judgement is the oracle's verdict on one scenario, with its evidence.
type Judgement struct {
	Class     Class
	Fork      run.Result
	Signature signature.Signature
	Key       string
	Verdicts  map[string]scenario.Verdict // method -> verdict, for every method run
	Reason    string                      // for error and hang: what happened
}

// Judge runs s under fork and, only when that deadlocks with a signature
// that known does not report, under each confirming method (the expensive
// part: spawn costs 40-80 ms per process). A finding is a fork deadlock that
// every confirming method completes.
func Judge(ctx context.Context, r *Runner, s *scenario.Scenario, confirm []string, known func(key string) bool) Judgement {
	j := Judgement{Verdicts: map[string]scenario.Verdict{}}
	if s == nil {
		j.Class, j.Reason = ClassError, "the generator gave no scenario"
		return j
	}
	res, err := r.Run(ctx, s, scenario.MethodFork)
	if err != nil {
		j.Class, j.Reason = ClassStopped, err.Error()
		return j
	}
	j.Fork = res
	j.Verdicts[scenario.MethodFork] = res.Verdict
	switch res.Verdict {
	case scenario.Deadlock:
	case scenario.OK:
		j.Class = ClassOK
		return j
	case scenario.Hang:
		j.Class, j.Reason = ClassHang, res.Reason
		return j
	default:
		j.Class, j.Reason = ClassError, string(res.Verdict)+": "+res.Reason
		return j
	}
	sig, ok := signature.Of(s, res)
	if !ok {
		// Proved, but the stuck step or stack was not read: once more.
		if res, err = r.Run(ctx, s, scenario.MethodFork); err != nil {
			j.Class, j.Reason = ClassStopped, err.Error()
			return j
		}
		if sig, ok = signature.Of(s, res); !ok {
			j.Class, j.Reason = ClassNoSig, string(res.Verdict)+": "+res.Reason
			return j
		}
		j.Fork = res
	}
	j.Signature, j.Key = sig, sig.Key()
	if known != nil && known(j.Key) {
		j.Class = ClassKnown
		return j
	}
	j.Class = ClassFinding
	for _, m := range confirm {
		res, err := r.Run(ctx, s, m)
		if err != nil {
			j.Class, j.Reason = ClassStopped, err.Error()
			return j
		}
		j.Verdicts[m] = res.Verdict
		switch res.Verdict {
		case scenario.OK:
		case scenario.Deadlock, scenario.Hang:
			// Hangs without fork too: a logic deadlock of the program.
			j.Class, j.Reason = ClassLogic, m+": "+string(res.Verdict)
			return j
		default:
			j.Class, j.Reason = ClassError, m+": "+string(res.Verdict)+": "+res.Reason
			return j
		}
	}
	return j
}
