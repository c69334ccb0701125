package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Error is one problem with one file of a corpus. Line and Col are set when
// the problem is at a place in a YAML file (Col is 0 for a YAML syntax error,
// where yaml.v3 reports only the line).
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

// Entry is the entry the file belongs to: its path without the suffix
// (corpus/0123456789abcdef), so that a report can count bad entries, not
// problems.
func (e *Error) Entry() string {
	stem, _ := split(e.File)
	return stem
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads every entry of dir, sorted by ID. Each bad entry is reported as
// one or more *Error naming its file; the other entries still load. Files
// without their .meta.yaml are no entry: Write writes the meta last, so they
// are what a killed write left, and the next Write of that ID replaces them.
// A meta that is there but is no regular file (a folder) is a bad entry.
func Load(dir string) ([]*Entry, []error) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("load corpus: %w", err)}
	}
	files := map[string]map[string]bool{} // stem -> ext -> present
	for _, d := range names {
		n := d.Name()
		// Dot files are atomicfile's temporaries; other files are not ours.
		if strings.HasPrefix(n, ".") {
			continue
		}
		stem, ext := split(n)
		// Nor are folders, unless one has an entry's file name: that entry
		// is then broken, and loadEntry says so.
		if ext == "" || d.IsDir() && !idPattern.MatchString(stem) {
			continue
		}
		if files[stem] == nil {
			files[stem] = map[string]bool{}
		}
		files[stem][ext] = true
	}
	var entries []*Entry
	var errs []error
	for _, stem := range sortedKeys(files) {
		e, es := loadEntry(dir, stem, files[stem])
		errs = append(errs, es...)
		if e != nil && len(es) == 0 {
			entries = append(entries, e)
		}
	}
	return entries, errs
}

// split returns a corpus file's stem and suffix ("" for other files).
func split(name string) (string, string) {
	for _, ext := range []string{MetaExt, ScenarioExt, ProgramExt} {
		if strings.HasSuffix(name, ext) {
			return strings.TrimSuffix(name, ext), ext
		}
	}
	return name, ""
}

func loadEntry(dir, id string, has map[string]bool) (*Entry, []error) {
	stem := filepath.Join(dir, id)
	if !idPattern.MatchString(id) {
		var first string
		for _, ext := range []string{ScenarioExt, ProgramExt, MetaExt} {
			if has[ext] && first == "" {
				first = stem + ext
			}
		}
		return nil, []error{&Error{File: first, Msg: fmt.Sprintf("not a corpus entry: the name must be %d hex digits", IDLen)}}
	}
	if !has[MetaExt] {
		return nil, nil // an interrupted write: absent, not broken
	}
	// Every file is read and checked, so that one report names every
	// problem of the entry.
	var errs []error
	for _, ext := range []string{ScenarioExt, ProgramExt} {
		if !has[ext] {
			errs = append(errs, &Error{File: stem + ext, Msg: "missing: the entry is incomplete"})
		}
	}
	e := &Entry{ID: id, Dir: dir}
	if data, err := readFile(stem+MetaExt, MaxMetaSize, "a meta file"); err != nil {
		errs = append(errs, err)
	} else {
		m, merrs := decodeMeta(stem+MetaExt, data)
		e.Meta = m
		errs = append(errs, merrs...)
	}
	if has[ProgramExt] {
		prog, err := readFile(stem+ProgramExt, MaxProgramSize, "a program")
		if err != nil {
			errs = append(errs, err)
		} else if len(prog) == 0 {
			errs = append(errs, &Error{File: stem + ProgramExt, Msg: "empty program"})
		}
		e.Program = prog
	}
	if has[ScenarioExt] {
		s, serrs := loadScenario(stem+ScenarioExt, id)
		e.Scenario = s
		errs = append(errs, serrs...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return e, nil
}

// readFile reads one file of an entry, following links. Anything but a
// regular file is an *Error (only a missing meta is an interrupted write),
// and so is a file over limit, reported with its size before reading it:
// a corpus is input, and a huge or endless file (a FIFO) must cost neither
// memory nor a hang.
func readFile(path string, limit int64, what string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: pathError(err)}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{File: path, Msg: fmt.Sprintf("not a regular file but %s", fileKind(st.Mode()))}
	}
	if st.Size() > limit {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is %d bytes, more than the limit of %d for %s", st.Size(), limit, what)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: pathError(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1)) // it may grow after Stat
	if err != nil {
		return nil, &Error{File: path, Msg: pathError(err)}
	}
	if int64(len(data)) > limit {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is more than the limit of %d bytes for %s", limit, what)}
	}
	return data, nil
}

// pathError drops the path an *fs.PathError repeats: *Error names the file.
func pathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "of mode " + m.String()
}

// loadScenario parses ID.yaml and checks that it is still the scenario the
// ID names: an edited scenario no longer matches its frozen program.
func loadScenario(path, id string) (*scenario.Scenario, []error) {
	data, err := readFile(path, scenario.MaxFileSize, "a scenario")
	if err != nil {
		return nil, []error{err}
	}
	s, err := scenario.Parse(path, data) // Parse validates too
	if err != nil {
		return nil, scenarioErrors(path, err)
	}
	if got := idOf(s); got != id {
		return nil, []error{&Error{File: path, Msg: fmt.Sprintf("content hash %s does not match the file name (edited by hand? record it again)", got)}}
	}
	return s, nil
}

// scenarioErrors turns the scenario package's errors into one *Error each.
func scenarioErrors(path string, err error) []error {
	var list scenario.Errors
	var one *scenario.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = scenario.Errors{one}
	default:
		return []error{&Error{File: path, Msg: err.Error()}}
	}
	out := make([]error, len(list))
	for i, e := range list {
		msg := e.Msg
		if e.Pos.Line == 0 && e.Path != "" {
			msg = e.Path + ": " + msg
		}
		out[i] = &Error{File: path, Line: e.Pos.Line, Col: e.Pos.Col, Msg: msg}
	}
	return out
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeMeta reads a meta file strictly: the version line first, known keys
// only, every required field, and valid methods and verdicts. Each problem is
// an *Error at its line and column.
func decodeMeta(path string, data []byte) (Meta, []error) {
	var m Meta
	want := fmt.Sprintf("want a mapping whose first line is 'forkfuzz: %d'", FormatVersion)
	if len(bytes.TrimSpace(data)) == 0 {
		return m, []error{&Error{File: path, Msg: "empty file: " + want}}
	}
	// yaml.v3 rejects bad bytes without saying where; find the first.
	if err := checkText(path, data); err != nil {
		return m, []error{err}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // comments only
			return m, []error{&Error{File: path, Msg: "no YAML document: " + want}}
		}
		e := &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if sm := yamlLine.FindStringSubmatch(err.Error()); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
		}
		return m, []error{e}
	}
	at := func(n *yaml.Node, format string, a ...any) error {
		return &Error{File: path, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, a...)}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode || len(doc.Content[0].Content) == 0 {
		return m, []error{&Error{File: path, Line: 1, Msg: want}}
	}
	root := doc.Content[0]
	if k, v := root.Content[0], root.Content[1]; k.Value != "forkfuzz" {
		return m, []error{at(k, "the first line must be 'forkfuzz: %d' (the meta format version), not %q", FormatVersion, k.Value)}
	} else if v.Value != strconv.Itoa(FormatVersion) {
		return m, []error{at(v, "unsupported meta format version %q (this forkfuzz reads %d)", v.Value, FormatVersion)}
	}
	m.Format = FormatVersion
	var errs []error
	seen := map[string]bool{}
	for i := 2; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			errs = append(errs, at(k, "%s: given twice", k.Value))
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "signature":
			errs = append(errs, decodeSignature(v, &m, at)...)
		case "seed":
			var seed int64
			if err := v.Decode(&seed); err != nil {
				errs = append(errs, at(v, "seed: want an integer"))
			}
			m.Seed = &seed
		case "recorded":
			if err := v.Decode(&m.Recorded); err != nil || v.Kind != yaml.ScalarNode {
				errs = append(errs, at(v, "recorded: want a time like %s", time.RFC3339))
			}
		case "verdicts":
			errs = append(errs, decodeVerdicts(v, &m, at)...)
		case "stack":
			if v.Kind != yaml.ScalarNode {
				errs = append(errs, at(v, "stack: want text"))
			}
			m.Stack = v.Value
		default:
			errs = append(errs, at(k, "unknown key %q (want signature, seed, recorded, verdicts, stack)", k.Value))
		}
	}
	for _, req := range []string{"signature", "recorded", "verdicts"} {
		if !seen[req] {
			errs = append(errs, at(root, "missing required key %q", req))
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].(*Error), errs[j].(*Error)
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	return m, errs
}

// checkText returns an *Error at the line and column of the first byte that
// is not UTF-8 or is a control character YAML does not allow (as yaml.v3's
// reader decides: tab, newline and carriage return are text), or nil.
// (harness/scenario checks scenario files alike, but does not export it.)
func checkText(path string, data []byte) *Error {
	line, col := 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size <= 1:
			return &Error{File: path, Line: line, Col: col, Msg: fmt.Sprintf("invalid UTF-8 byte 0x%02x (a meta file is UTF-8 text)", data[0])}
		case !yamlChar(r):
			what := "control character"
			if r == 0xfffe || r == 0xffff {
				what = "noncharacter"
			}
			return &Error{File: path, Line: line, Col: col, Msg: fmt.Sprintf("%s %U is not allowed (a meta file is YAML text)", what, r)}
		case r == '\n':
			line, col = line+1, 1
		default:
			col++
		}
		data = data[size:]
	}
	return nil
}

// yamlChar is YAML 1.2's printable set, c-printable, which yaml.v3 enforces.
func yamlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
		r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}

type atFunc func(n *yaml.Node, format string, a ...any) error

func decodeSignature(v *yaml.Node, m *Meta, at atFunc) []error {
	if v.Kind != yaml.MappingNode {
		return []error{at(v, "signature: want a mapping with kind, held, where, blocked, frames")}
	}
	var errs []error
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := v.Content[i]
		switch k.Value {
		case "kind", "held", "where", "blocked", "frames":
		default:
			errs = append(errs, at(k, "signature: unknown key %q (want kind, held, where, blocked, frames)", k.Value))
		}
	}
	if err := v.Decode(&m.Signature); err != nil {
		return append(errs, at(v, "signature: %s", cleanDecodeError(err)))
	}
	if m.Signature.Kind == "" {
		errs = append(errs, at(v, "signature: missing kind"))
	} else if !knownKind(m.Signature.Kind) {
		errs = append(errs, at(v, "signature: unknown resource kind %q", m.Signature.Kind))
	}
	return errs
}

func decodeVerdicts(v *yaml.Node, m *Meta, at atFunc) []error {
	m.Verdicts = map[string]map[string]scenario.Verdict{}
	if v.Kind != yaml.MappingNode {
		return []error{at(v, "verdicts: want a map of Python version to start method to verdict")}
	}
	var errs []error
	for i := 0; i+1 < len(v.Content); i += 2 {
		ver, per := v.Content[i], v.Content[i+1]
		if per.Kind != yaml.MappingNode {
			errs = append(errs, at(per, "verdicts: python %s: want a map of start method to verdict", ver.Value))
			continue
		}
		m.Verdicts[ver.Value] = map[string]scenario.Verdict{}
		for j := 0; j+1 < len(per.Content); j += 2 {
			meth, verdict := per.Content[j], per.Content[j+1]
			if !knownMethod(meth.Value) {
				errs = append(errs, at(meth, "verdicts: unknown start method %q", meth.Value))
				continue
			}
			if !knownVerdict(scenario.Verdict(verdict.Value)) || verdict.Kind != yaml.ScalarNode {
				errs = append(errs, at(verdict, "verdicts: python %s %s: unknown verdict %q (want ok, deadlock, hang, crash or error)", ver.Value, meth.Value, verdict.Value))
				continue
			}
			m.Verdicts[ver.Value][meth.Value] = scenario.Verdict(verdict.Value)
		}
	}
	return errs
}

// cleanDecodeError drops yaml.v3's "unmarshal errors: line N:" framing; the
// caller reports the position itself.
func cleanDecodeError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); strings.Contains(s, "unmarshal errors") && i >= 0 {
		return strings.TrimSpace(s[i+2:])
	}
	return s
}

func knownKind(k scenario.Kind) bool {
	for _, x := range scenario.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func knownMethod(m string) bool {
	for _, x := range scenario.Methods {
		if x == m {
			return true
		}
	}
	return false
}

func knownVerdict(v scenario.Verdict) bool {
	for _, x := range scenario.Verdicts {
		if x == v {
			return true
		}
	}
	return false
}
