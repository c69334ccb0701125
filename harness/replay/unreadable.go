package replay

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
)

// Unreadable is a corpus entry that did not load, with every problem found in
// its files. It was never run, so reports count it apart from the cases: one
// entry with three bad lines is one unreadable entry, not three failures.
type Unreadable struct {
	Entry string  // the entry's path without suffix (corpus/0123456789abcdef); "" for an error about no one entry
	Errs  []error // each names its file
}

// Unreadables groups the errors of corpus.Load by the entry they are about,
// in order.
func Unreadables(loadErrs []error) []Unreadable {
	var out []Unreadable
	index := map[string]int{}
	for _, err := range loadErrs {
		var ce *corpus.Error
		if !errors.As(err, &ce) { // about no one entry (a folder): stands alone
			out = append(out, Unreadable{Errs: []error{err}})
			continue
		}
		i, ok := index[ce.Entry()]
		if !ok {
			i = len(out)
			index[ce.Entry()] = i
			out = append(out, Unreadable{Entry: ce.Entry()})
		}
		out[i].Errs = append(out[i].Errs, err)
	}
	return out
}

// ID is the entry's file stem, as cases name it ("" when about no entry).
func (u Unreadable) ID() string {
	if u.Entry == "" {
		return ""
	}
	return filepath.Base(u.Entry)
}

// File is the base name of the first file in error, or "corpus".
func (u Unreadable) File() string {
	var ce *corpus.Error
	if errors.As(u.Errs[0], &ce) {
		return filepath.Base(ce.File)
	}
	return "corpus"
}

// Reason is every problem, one per line.
func (u Unreadable) Reason() string {
	lines := make([]string, len(u.Errs))
	for i, err := range u.Errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}
