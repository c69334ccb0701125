package replay

import (
	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Unsure are the verdicts Update records only when told to (UpdateOptions.
// Allow): an error or an unproven hang is as often the harness's fault (an
// executor that is not a fresh interpreter, a loaded machine) as the
// program's, and once recorded it would be checked as the truth.
var Unsure = []scenario.Verdict{scenario.ErrorVerdict, scenario.Hang}

// UpdateOptions says what Update may record. Zero value: no verdict of
// Unsure.
type UpdateOptions struct {
	Allow []scenario.Verdict // verdicts of Unsure to record all the same
}

// Update records Got under the case's exact Python version for every case
// whose minor had nothing recorded (New, or compared with an older minor:
// unchanged, fixed, broke or changed; those still fail this replay) and
// whose runs agreed, and for every Pass matched through another patch
// release of the same minor. A verdict of Unsure is recorded only if
// opts.Allow names it; those cases are returned as held. Each entry touched
// has its meta rewritten once, atomically. A difference from what was
// recorded for the same minor is never recorded: it needs a person.
func Update(cases []*Case, opts UpdateOptions) (n int, held []*Case, errs []error) {
	var touched []*corpus.Entry
	for _, c := range cases {
		fresh := c.Recorded == "" && c.Got != "" && (c.Status == New || c.ComparedWith != "")
		otherPatch := c.Status == Pass && c.RecordedOn != c.Version
		if !fresh && !otherPatch {
			continue
		}
		if containsVerdict(Unsure, c.Got) && !containsVerdict(opts.Allow, c.Got) {
			held = append(held, c)
			continue
		}
		c.Entry.Record(c.Version, c.Method, c.Got)
		c.Updated = true
		n++
		if !containsEntry(touched, c.Entry) {
			touched = append(touched, c.Entry)
		}
	}
	for _, e := range touched {
		if err := corpus.WriteMeta(e); err != nil {
			errs = append(errs, err)
		}
	}
	return n, held, errs
}

// WhyHeld is the one line saying why Update did not record a held case:
// the verdict and the runner's reason for it.
func (c *Case) WhyHeld() string {
	line := c.Entry.ID + " " + c.Name() + ": " + string(c.Got)
	if why := firstReason(c.Results); why != "" {
		line += ": " + why
	}
	return line
}

func containsVerdict(list []scenario.Verdict, v scenario.Verdict) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsEntry(list []*corpus.Entry, e *corpus.Entry) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}
