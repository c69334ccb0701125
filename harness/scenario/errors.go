package scenario

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem in a scenario. Pos is zero for a scenario built in
// memory; Path then says where (e.g. "threads.holder[1]").
type Error struct {
	File string
	Pos  Pos
	Path string // where in the scenario, shown only when Pos is unknown
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	switch {
	case e.Pos.Line > 0 && e.Pos.Col > 0:
		fmt.Fprintf(&b, "%d:%d:", e.Pos.Line, e.Pos.Col)
	case e.Pos.Line > 0:
		fmt.Fprintf(&b, "%d:", e.Pos.Line)
	case e.Path != "":
		b.WriteString(e.Path)
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one scenario, sorted by position.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortErrors orders by file, position, then path and message, so that
// output is stable whatever order the checks ran in; exact duplicates
// (one cause seen by two checks) are dropped.
func sortErrors(es Errors) Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && *e == *es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// errorList collects the errors of one scenario. Parse fills pos with the
// position of every value it decoded, by path, and bad with the paths whose
// shape was wrong, so that the semantic checks can point at values and stay
// quiet about what they could not see.
type errorList struct {
	file string
	errs Errors
	pos  map[string]Pos  // path -> position; nil for a scenario built in memory
	bad  map[string]bool // paths that failed to decode
}

// add reports at path.field, at the position recorded for it (or for path),
// else at pos. It drops an error under a path that failed to decode.
func (l *errorList) add(path string, pos Pos, format string, args ...any) {
	l.addField(path, "", pos, format, args...)
}

func (l *errorList) addField(path, field string, pos Pos, format string, args ...any) {
	full := join(path, field)
	if l.underBad(full) {
		return
	}
	if p, ok := l.pos[full]; ok {
		pos = p
	} else if p, ok := l.pos[path]; ok {
		pos = p
	}
	l.errs = append(l.errs, &Error{File: l.file, Pos: pos, Path: full, Msg: fmt.Sprintf(format, args...)})
}

// underBad reports whether path or one of its ancestors failed to decode.
func (l *errorList) underBad(path string) bool {
	for p := path; ; {
		if l.bad[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return l.bad[""]
		}
		p = p[:i]
	}
}

// broken reports whether anything at or under path failed to decode: a
// check over a whole list (what a thread holds) is then skipped.
func (l *errorList) broken(path string) bool {
	for p := range l.bad {
		if p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			return true
		}
	}
	return false
}

// err returns nil or the sorted Errors, at most MaxErrors of them and a
// last one that counts the rest: a hostile file can hold a million mistakes.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	es := sortErrors(l.errs)
	if len(es) > MaxErrors {
		rest := len(es) - MaxErrors
		es = append(es[:MaxErrors:MaxErrors], &Error{File: l.file, Pos: es[MaxErrors].Pos, Msg: fmt.Sprintf("and %d more errors", rest)})
	}
	return es
}

// maxShown is how many characters of a value a message shows.
const maxShown = 60

// quote quotes a value from a scenario for a message. ASCII escapes show
// look-alike letters and invisible characters for what they are, and a long
// value is cut, so that one hostile value cannot flood the terminal.
func quote(s string) string {
	head, more := cut(s)
	return strconv.QuoteToASCII(head) + more
}

// bare is quote without the quotes, for text that reads as part of the
// sentence: a path, an anchor name, a number.
func bare(s string) string {
	head, more := cut(s)
	q := strconv.QuoteToASCII(head)
	return q[1:len(q)-1] + more
}

// cut returns the first maxShown characters of s and, when that is not all
// of s, a note of its length to follow them.
func cut(s string) (head, more string) {
	i := 0
	for n := 0; n < maxShown && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if i == len(s) {
		return s, ""
	}
	return s[:i], fmt.Sprintf("… (%d bytes)", len(s))
}
