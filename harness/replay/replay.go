// Package replay owns replaying a regression corpus: every entry's program
// under every interpreter and start method, each verdict compared with the
// one recorded for that Python version, the difference classified (fixed,
// regressed, flaky, changed) and reported, also as JUnit XML for CI. New
// versions are recorded only when asked (Update).
package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Status is how one case compares with its recorded verdict.
type Status string

const (
	Pass      Status = "pass"      // every run gave the recorded verdict
	Fixed     Status = "fixed"     // recorded deadlock under fork on this version, now completes
	Regressed Status = "regressed" // recorded ok, now deadlocks
	Flaky     Status = "flaky"     // the runs disagree
	Changed   Status = "changed"   // any other difference
	New       Status = "new"       // nothing recorded for this Python minor nor an older one: not a failure
	// A minor with nothing recorded is compared with the nearest older
	// recorded minor (ComparedWith): Unchanged passes; Fixed (a deadlock
	// there, ok here), Broke (ok there, not here) and Changed fail, naming
	// both versions.
	Unchanged Status = "unchanged"
	Broke     Status = "broke"
)

// Options says how to replay. Zero values: Methods every method, Runs 1,
// Jobs 1, Timeout run.DefaultTimeout.
type Options struct {
	Pythons []python.Interpreter
	Methods []string
	Runs    int           // every run of a case must agree
	Jobs    int           // executions at a time
	Timeout time.Duration // per execution, paid only by an unproven hang
	Env     []string      // extra KEY=VAL for every execution
	// Executor, when not nil, runs fork-method executions by forking a
	// pre-started interpreter; nil starts a fresh one each time.
	Executor *executor.Pool
}

// Case is one entry under one interpreter and start method.
type Case struct {
	Entry   *corpus.Entry
	Python  python.Interpreter
	Version string // the verdicts key of this interpreter (python.Interpreter.Key): "3.12.1", "3.13.0t"
	Method  string
	// Recorded is the verdict recorded for Version, or else for the newest
	// recorded patch release of the same minor (RecordedOn says which):
	// CI's setup-python moves to new patch releases, and a fork-safety
	// behaviour that changes within a minor is worth a failure, not silence.
	Recorded   scenario.Verdict
	RecordedOn string
	// ComparedWith is, when the case's minor has nothing recorded, the
	// version of the nearest older recorded minor of the same build (GIL or
	// free-threaded), and Older its verdict: a new release is an event,
	// each case unchanged, fixed, broke or changed in it. "" when none.
	ComparedWith string
	Older        scenario.Verdict
	Results      []run.Result
	Got          scenario.Verdict // the verdict every run agreed on; "" when flaky
	Status       Status
	Reason       string // one line naming entry, Python version and method; "" on Pass
	Updated      bool   // Update recorded Got for Version
}

// Failed reports whether the case fails a replay. A case not run (Status "",
// after an interruption) has not failed; the interruption is reported instead.
func (c *Case) Failed() bool {
	return c.Status != "" && c.Status != Pass && c.Status != New && c.Status != Unchanged
}

// Name is the case as JUnit and reports name it: "python 3.12.1 fork".
func (c *Case) Name() string { return "python " + c.Version + " " + c.Method }

// Plan lists the cases: every entry x interpreter x method, in that order.
func Plan(entries []*corpus.Entry, opts Options) []*Case {
	methods := opts.Methods
	if len(methods) == 0 {
		methods = scenario.Methods
	}
	var cases []*Case
	for _, e := range entries {
		for _, in := range opts.Pythons {
			for _, m := range methods {
				c := &Case{Entry: e, Python: in, Version: in.Key(), Method: m}
				c.Recorded, c.RecordedOn = recorded(e, c.Version, m)
				if c.Recorded == "" {
					c.Older, c.ComparedWith = older(e, c.Version, m)
				}
				cases = append(cases, c)
			}
		}
	}
	return cases
}

// recorded finds the verdict for version, or for the newest other patch
// release of its minor.
func recorded(e *corpus.Entry, version, method string) (scenario.Verdict, string) {
	if v, ok := e.Recorded(version, method); ok {
		return v, version
	}
	vs := e.Versions()
	for i := len(vs) - 1; i >= 0; i-- {
		if python.KeyMinor(vs[i]) != python.KeyMinor(version) {
			continue
		}
		if v, ok := e.Recorded(vs[i], method); ok {
			return v, vs[i]
		}
	}
	return "", ""
}

// older finds, for a version whose minor has nothing recorded, the verdict
// of the nearest older minor that has one, and the version it was recorded
// on (its newest patch release). Only a build of the same kind counts: a
// free-threaded build behaves differently at fork from its GIL twin.
func older(e *corpus.Entry, version, method string) (scenario.Verdict, string) {
	vs := e.Versions()
	mine := python.KeyMinor(version)
	for i := len(vs) - 1; i >= 0; i-- {
		if python.KeyFreeThreaded(vs[i]) != python.KeyFreeThreaded(version) ||
			!corpus.VersionLess(python.KeyMinor(vs[i]), mine) {
			continue
		}
		if v, ok := e.Recorded(vs[i], method); ok {
			return v, vs[i]
		}
	}
	return "", ""
}

// classify sets Got, Status and Reason from the case's results.
func (c *Case) classify() {
	c.Got = c.Results[0].Verdict
	var seen []string
	for _, r := range c.Results {
		if !contains(seen, string(r.Verdict)) {
			seen = append(seen, string(r.Verdict))
		}
	}
	head := fmt.Sprintf("%s %s: ", c.Entry.ID, c.Name())
	rec := string(c.Recorded)
	if c.RecordedOn != "" && c.RecordedOn != c.Version {
		rec += " (on " + c.RecordedOn + ")"
	}
	switch {
	case len(seen) > 1:
		c.Got, c.Status = "", Flaky
		c.Reason = head + fmt.Sprintf("flaky: %d runs gave %s", len(c.Results), strings.Join(seen, ", "))
		if c.Recorded != "" {
			c.Reason += ", recorded " + rec
		} else if c.ComparedWith != "" {
			c.Reason += fmt.Sprintf(", %s recorded %s", c.ComparedWith, c.Older)
		}
	case c.Recorded == "" && c.ComparedWith != "":
		c.compareOlder(head)
	case c.Recorded == "":
		c.Status = New
		c.Reason = head + fmt.Sprintf("new: not recorded, got %s (use --update)", c.Got)
	case c.Got == c.Recorded:
		c.Status = Pass
	case c.Recorded == scenario.Deadlock && c.Method == scenario.MethodFork && c.Got == scenario.OK:
		c.Status = Fixed
		c.Reason = head + fmt.Sprintf("recorded %s, got %s (fixed?)", rec, c.Got)
	case c.Recorded == scenario.OK && c.Got == scenario.Deadlock:
		c.Status = Regressed
		c.Reason = head + fmt.Sprintf("recorded %s, got %s (regressed)", rec, c.Got)
	default:
		c.Status = Changed
		c.Reason = head + fmt.Sprintf("recorded %s, got %s (changed)", rec, c.Got)
	}
	if c.Failed() {
		if why := firstReason(c.Results); why != "" {
			c.Reason += ": " + why
		}
	}
}

// compareOlder classifies a case of a minor with nothing recorded against
// the nearest older recorded minor, naming both versions.
func (c *Case) compareOlder(head string) {
	if c.Got == c.Older {
		c.Status = Unchanged
		return
	}
	in := python.KeyMinor(c.Version)
	switch {
	case c.Older == scenario.Deadlock && c.Got == scenario.OK:
		c.Status = Fixed
	case c.Older == scenario.OK:
		c.Status = Broke
	default:
		c.Status = Changed
	}
	word := map[Status]string{Fixed: "fixed", Broke: "broke", Changed: "changed"}[c.Status]
	c.Reason = head + fmt.Sprintf("%s in %s: %s recorded %s, %s got %s", word, in, c.ComparedWith, c.Older, c.Version, c.Got)
}

// firstReason is the runner's one-line reason of a run that did not
// complete, if it gave one (an exception, a signal, a timeout).
func firstReason(rs []run.Result) string {
	for _, r := range rs {
		if r.Verdict != scenario.OK && r.Verdict != scenario.Deadlock && r.Reason != "" {
			return strings.SplitN(r.Reason, "\n", 2)[0]
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
