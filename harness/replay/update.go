package replay

import (
	"github.com/forkfuzz/forkfuzz/harness/corpus"
)

// Update records Got under the case's exact Python version for every New case
// whose runs agreed, and for every Pass matched through another patch
// release of the same minor. Each entry touched has its meta rewritten once,
// atomically. Failures are never recorded: a changed verdict needs a person.
// It returns how many verdicts were recorded.
func Update(cases []*Case) (int, []error) {
	n := 0
	var touched []*corpus.Entry
	for _, c := range cases {
		fresh := c.Status == New && c.Got != ""
		otherPatch := c.Status == Pass && c.RecordedOn != c.Version
		if !fresh && !otherPatch {
			continue
		}
		c.Entry.Record(c.Version, c.Method, c.Got)
		c.Updated = true
		n++
		if !containsEntry(touched, c.Entry) {
			touched = append(touched, c.Entry)
		}
	}
	var errs []error
	for _, e := range touched {
		if err := corpus.WriteMeta(e); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errs
}

func containsEntry(list []*corpus.Entry, e *corpus.Entry) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}
