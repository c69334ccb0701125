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
		l.add("", Pos{}, "file is %d bytes, more than the limit of %d (MaxFileSize)", len(data), MaxFileSize)
		return nil, l.err()
	}
	if !utf8.Valid(data) {
		l.errs = append(l.errs, utf8Error(file, data))
		return nil, l.err()
	}
	root, err := decodeYAML(data)
	if err != nil {
		l.errs = append(l.errs, yamlError(file, err))
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
	// Read one byte past the limit so that Parse reports it, without ever
	// holding a huge file in memory.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read scenario %s: %w", path, err)
	}
	return Parse(path, data)
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
			errs = append(errs, &Error{File: p, Msg: fmt.Sprintf("scenario name %q is also used by %s", s.Name, first)})
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

// decodeYAML reads exactly one YAML document.
func decodeYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: expected a map starting with forkfuzz: 1")
		}
		return nil, err
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("line %d: a second YAML document; a scenario file holds one", more.Line)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error ("yaml: line 3: ...") into an Error at
// that line.
func yamlError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Pos: Pos{Line: line}, Msg: m[2]}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// utf8Error points at the first byte that is not UTF-8. yaml.v3 would
// also accept UTF-16 with a byte order mark; scenario files are UTF-8.
func utf8Error(file string, data []byte) *Error {
	line, col := 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return &Error{File: file, Pos: Pos{line, col}, Msg: "invalid UTF-8 (a scenario file is UTF-8 text)"}
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// checkTree refuses what the decoder should never have to think about:
// anchors and aliases (shared or expanding structure), tags other than the
// core ones, and nesting deeper than MaxDepth. It reports false when the
// tree must not be decoded.
func checkTree(l *errorList, root *yaml.Node) bool {
	ok := true
	deep := false
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n.Kind == yaml.AliasNode {
			l.add("", posOf(n), "alias *%s: aliases and anchors are not supported", n.Value)
			ok = false
			return
		}
		if n.Anchor != "" {
			l.add("", posOf(n), "anchor &%s: aliases and anchors are not supported", n.Anchor)
			ok = false
		}
		if n.Style&yaml.TaggedStyle != 0 && !coreTags[n.ShortTag()] {
			l.add("", posOf(n), "unsupported tag %s", n.Tag)
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
		for _, c := range n.Content {
			walk(c, depth)
		}
	}
	walk(root, 0)
	return ok
}

var coreTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true,
	"!!null": true, "!!map": true, "!!seq": true}
