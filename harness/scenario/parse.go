package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Parse reads one scenario in YAML format version 1 and validates it. file
// names the input in errors. The error, when not nil, is an Errors holding
// every problem found, each with its file:line:col.
//
// Parse walks yaml.v3 Nodes instead of decoding into tagged structs, so that
// every value keeps its position and every shape (short forms, one-key step
// maps) is checked by hand with a message that says what was expected.
func Parse(file string, data []byte) (*Scenario, error) {
	l := &errorList{file: file, pos: map[string]Pos{}, bad: map[string]bool{}}
	if len(data) > MaxFileSize {
		l.add("", Pos{}, "%s", tooLarge(int64(len(data))))
		return nil, l.err()
	}
	if e := textError(file, data); e != nil {
		l.errs = append(l.errs, e)
		return nil, l.err()
	}
	root, err := decodeYAML(data)
	if err != nil {
		l.errs = append(l.errs, yamlError(file, data, err))
		return nil, l.err()
	}
	if !checkTree(l, root) {
		return nil, l.err()
	}
	d := &decoder{l: l}
	s := d.scenario(root)
	s.File = file
	s.check(l)
	if err := l.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseFile reads and parses one scenario file.
func ParseFile(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	switch {
	case fi.IsDir():
		return nil, Errors{{File: path, Msg: "is a directory, not a scenario file"}}
	case fi.Mode().IsRegular() && fi.Size() > MaxFileSize:
		return nil, Errors{{File: path, Msg: tooLarge(fi.Size())}}
	}
	// A pipe has no size to stat, and a file can grow: read one byte past
	// the limit to see, without ever holding a huge file in memory.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read scenario %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("file is more than the limit of %d bytes (MaxFileSize)", MaxFileSize)}}
	}
	return Parse(path, data)
}

// tooLarge says how large a file is, when that is known.
func tooLarge(size int64) string {
	return fmt.Sprintf("file is %d bytes, more than the limit of %d (MaxFileSize)", size, MaxFileSize)
}

// ParseDir parses every *.yaml file of dir, in name order. It returns every
// scenario that parsed, and an Errors listing the problems of all the others
// (and any name used by two files), so one bad file does not hide the rest.
func ParseDir(dir string) ([]*Scenario, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list scenarios in %s: %w", dir, err)
	}
	sort.Strings(paths)
	var all []*Scenario
	var errs Errors
	byName := map[string]string{}
	for _, p := range paths {
		s, err := ParseFile(p)
		if err != nil {
			var es Errors
			if errors.As(err, &es) {
				errs = append(errs, es...)
			} else {
				errs = append(errs, &Error{File: p, Msg: err.Error()})
			}
			continue
		}
		if first, ok := byName[s.Name]; ok {
			errs = append(errs, &Error{File: p, Msg: fmt.Sprintf("scenario name %s is also used by %s", quote(s.Name), first)})
			continue
		}
		byName[s.Name] = p
		all = append(all, s)
	}
	if len(errs) > 0 {
		return all, sortErrors(errs)
	}
	return all, nil
}

// decodeYAML reads exactly one YAML document. Its own errors are *Error
// without the file; the others are yaml.v3's.
func decodeYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "empty file: expected a map starting with forkfuzz: 1"}
		}
		return nil, err
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, &Error{Pos: Pos{Line: more.Line}, Msg: "a second YAML document; a scenario file holds one"}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error ("yaml: line 3: ...") into an Error at
// that line, or at the tab that caused it.
func yamlError(file string, data []byte, err error) *Error {
	if e, ok := err.(*Error); ok {
		e.File = file
		return e
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if pos, ok := tabPos(data, line, msg); ok {
		return &Error{File: file, Pos: pos, Msg: "a tab in the indentation; YAML indents with spaces"}
	}
	return &Error{File: file, Pos: Pos{Line: line}, Msg: msg}
}

const cannotStart = "found character that cannot start any token"

// tabPos finds the tab behind a yaml.v3 syntax error, which names neither
// the tab nor its column: a tab in the leading whitespace of the error's
// line, or anywhere in it for "cannot start any token" (as in "-\ttake").
// yaml.v3 leaves out line 1 and reports "found a tab character that
// violates indentation" at the line before the tab, so a message about a
// tab also looks at the next line.
func tabPos(data []byte, line int, msg string) (Pos, bool) {
	if line == 0 {
		line = 1
	}
	lines := strings.Split(string(data), "\n")
	for l := line; l <= line+1 && l <= len(lines); l++ {
		text := lines[l-1]
		indent := len(text) - len(strings.TrimLeft(text, " \t"))
		i := strings.IndexByte(text[:indent], '\t')
		if i < 0 && msg == cannotStart && l == line {
			i = strings.IndexByte(text, '\t')
		}
		if i >= 0 {
			return Pos{Line: l, Col: utf8.RuneCountInString(text[:i]) + 1}, true
		}
		if !strings.Contains(msg, "tab") {
			break
		}
	}
	return Pos{}, false
}

// textError points at the first byte that is not UTF-8, or at the first
// character yaml.v3 refuses ("control characters are not allowed", with no
// position). yaml.v3 would also accept UTF-16 with a byte order mark;
// scenario files are UTF-8.
func textError(file string, data []byte) *Error {
	line, col := 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return &Error{File: file, Pos: Pos{line, col}, Msg: "invalid UTF-8 (a scenario file is UTF-8 text)"}
		}
		if name := refused(r); name != "" {
			return &Error{File: file, Pos: Pos{line, col}, Msg: name + " is not allowed"}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return nil
}

var c0Names = [...]string{"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
	"SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"}

// refused names r if yaml.v3's reader refuses it, else returns "". It
// allows tab, newline, carriage return, NEL (U+0085) and every other
// character from U+0020 up but DEL, the C1 controls, U+FFFE and U+FFFF.
func refused(r rune) string {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return ""
	case r < 0x20:
		return fmt.Sprintf("control character %s (0x%02X)", c0Names[r], r)
	case r == 0x7f:
		return "control character DEL (0x7F)"
	case r >= 0x80 && r < 0xa0:
		return fmt.Sprintf("control character %U", r)
	case r == 0xfffe || r == 0xffff:
		return fmt.Sprintf("noncharacter %U", r)
	}
	return ""
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// checkTree refuses what the decoder should never have to think about:
// anchors and aliases (shared or expanding structure), merge keys, tags
// other than the core ones, and nesting deeper than MaxDepth. It reports
// false when the tree must not be decoded.
func checkTree(l *errorList, root *yaml.Node) bool {
	ok := true
	deep := false
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n.Kind == yaml.AliasNode {
			l.add("", posOf(n), "alias *%s: aliases and anchors are not supported", bare(n.Value))
			ok = false
			return
		}
		if n.Anchor != "" {
			l.add("", posOf(n), "anchor &%s: aliases and anchors are not supported", bare(n.Anchor))
			ok = false
		}
		if n.Style&yaml.TaggedStyle != 0 && !coreTags[n.ShortTag()] {
			l.add("", posOf(n), "unsupported tag %s", bare(n.Tag))
			ok = false
		}
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			depth++
		}
		if depth > MaxDepth {
			if !deep {
				l.add("", posOf(n), "nesting deeper than %d (MaxDepth)", MaxDepth)
			}
			deep, ok = true, false
			return
		}
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && isMerge(c) {
				// One message says it all: the merged value (often an
				// alias) is not looked at, and nothing is decoded.
				l.add("", posOf(c), "merge keys (<<) are not supported; write the keys out")
				ok = false
				continue
			}
			if n.Kind == yaml.MappingNode && i%2 == 1 && isMerge(n.Content[i-1]) {
				continue
			}
			walk(c, depth)
		}
	}
	walk(root, 0)
	return ok
}

// isMerge reports whether key is a merge key: a plain <<, which yaml.v3
// tags !!merge (a quoted "<<" is an ordinary key).
func isMerge(key *yaml.Node) bool {
	return key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge"
}

var coreTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true,
	"!!null": true, "!!map": true, "!!seq": true}
