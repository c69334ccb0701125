package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyStr quotes s as a Python string literal. QuoteToASCII's escapes (\n, \\,
// \", \xNN, \uNNNN, \UNNNNNNNN) all mean the same in Python, so no input can
// end the literal early.
func pyStr(s string) string { return strconv.QuoteToASCII(s) }

// identRE is the scenario name rule for resources, threads and events
// (FORMAT.md). Render re-checks it because these names become parts of Python
// identifiers and file names.
var identRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

func checkIdent(what, name string) error {
	if !identRE.MatchString(name) || strings.HasPrefix(name, "ff_") {
		return fmt.Errorf("%s name %q is not an identifier", what, name)
	}
	return nil
}

// docText escapes one line of free text for a """ docstring: every backslash
// and quote is escaped (so the text can neither end the string nor start an
// escape), and every character that is not printable becomes an escape.
func docText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r < 0x80 && unicode.IsPrint(r):
			b.WriteRune(r)
		case r >= 0x80 && unicode.IsPrint(r) && !unicode.Is(unicode.Zs, r):
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

// wrap splits free text into lines of at most width columns, word by word.
func wrap(text string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
