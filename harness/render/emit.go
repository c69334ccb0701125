package render

import (
	"fmt"
	"strings"
)

// emitter writes the program line by line and knows the number of the line it
// writes next, so a step can say where its blocking operation is.
type emitter struct {
	b      strings.Builder
	lines  int // lines written so far
	indent int // in units of four spaces
}

// line writes one line at the current indentation and returns its 1-based number.
func (e *emitter) line(format string, args ...any) int {
	text := format
	if len(args) > 0 {
		text = fmt.Sprintf(format, args...)
	}
	if text != "" {
		e.b.WriteString(strings.Repeat("    ", e.indent))
		e.b.WriteString(text)
	}
	e.b.WriteByte('\n')
	e.lines++
	return e.lines
}

// text writes a constant block, one line per line of text, each indented.
// A leading newline and the trailing one are dropped so callers can use raw
// strings that start and end on their own lines.
func (e *emitter) text(block string) {
	block = strings.TrimPrefix(block, "\n")
	block = strings.TrimSuffix(block, "\n")
	for _, l := range strings.Split(block, "\n") {
		e.line("%s", l)
	}
}

func (e *emitter) blank() { e.line("") }

func (e *emitter) in()  { e.indent++ }
func (e *emitter) out() { e.indent-- }
