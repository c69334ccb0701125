package corpus

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// writeMu makes the dedupe scan and the writes one step for the writers of
// this process (the fuzzer records findings from several workers). Two
// processes writing one folder at once may still add one signature twice;
// `forkfuzz corpus merge` folds such twins.
var writeMu sync.Mutex

var idPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Write stores e in dir and returns the ID of the entry that now holds it. If
// an entry with the same signature (or the same ID) is already there, e's
// verdicts are merged into it (e's win where both name a version and method)
// and no second entry is added. Each file is replaced atomically, the .yaml
// and .py first and the .meta.yaml last: an entry is complete iff its meta
// exists, whatever moment a crash interrupts the write.
func Write(dir string, e *Entry) (string, error) {
	id, _, _, err := write(dir, e, true)
	return id, err
}

// write is Write; merged says whether e went into an existing entry, and
// conflicts lists each version/method recorded differently in both (only
// kept from e when overwrite is set).
func write(dir string, e *Entry, overwrite bool) (id string, merged bool, conflicts []string, err error) {
	if err := check(e); err != nil {
		return "", false, nil, fmt.Errorf("write corpus entry to %s: %w", dir, err)
	}
	writeMu.Lock()
	defer writeMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, nil, fmt.Errorf("write corpus entry: %w", err)
	}
	if old, ok := find(dir, e); ok {
		conflicts = mergeMeta(&old.Meta, e.Meta, overwrite)
		if err := writeMeta(dir, old.ID, old.Meta); err != nil {
			return "", false, nil, err
		}
		e.Dir = dir
		return old.ID, true, conflicts, nil
	}
	stem := filepath.Join(dir, e.ID)
	if err := atomicfile.Write(stem+ScenarioExt, scenario.Marshal(e.Scenario), 0o644); err != nil {
		return "", false, nil, fmt.Errorf("write corpus entry %s: %w", e.ID, err)
	}
	if err := atomicfile.Write(stem+ProgramExt, e.Program, 0o644); err != nil {
		return "", false, nil, fmt.Errorf("write corpus entry %s: %w", e.ID, err)
	}
	if err := writeMeta(dir, e.ID, e.Meta); err != nil {
		return "", false, nil, err
	}
	e.Dir = dir
	return e.ID, false, nil, nil
}

// WriteMeta atomically rewrites the meta file of an entry already in e.Dir
// (replay --update records new Python versions this way).
func WriteMeta(e *Entry) error {
	if e == nil || e.Dir == "" || !idPattern.MatchString(e.ID) {
		return fmt.Errorf("write corpus meta: entry has no folder or a bad ID")
	}
	return writeMeta(e.Dir, e.ID, e.Meta)
}

func writeMeta(dir, id string, m Meta) error {
	data, err := encodeMeta(m)
	if err == nil {
		err = atomicfile.Write(filepath.Join(dir, id+MetaExt), data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("write corpus entry %s: %w", id, err)
	}
	return nil
}

func check(e *Entry) error {
	switch {
	case e == nil || e.Scenario == nil:
		return fmt.Errorf("entry has no scenario")
	case !idPattern.MatchString(e.ID):
		return fmt.Errorf("entry ID %q is not %d hex digits", e.ID, IDLen)
	case len(e.Program) == 0:
		return fmt.Errorf("entry %s has no program", e.ID)
	case e.Meta.Signature.Kind == "":
		return fmt.Errorf("entry %s has no signature", e.ID)
	}
	return nil
}

// find returns the entry of dir with e's signature, or else with e's ID.
// Entries whose meta does not load are skipped here; Load reports them.
func find(dir string, e *Entry) (*Entry, bool) {
	metas, _ := filepath.Glob(filepath.Join(dir, "*"+MetaExt))
	key := e.Meta.Signature.Key()
	var sameID *Entry
	for _, path := range metas {
		id := strings.TrimSuffix(filepath.Base(path), MetaExt)
		data, err := readFile(path, MaxMetaSize, "a meta file")
		if err != nil {
			continue
		}
		m, errs := decodeMeta(path, data)
		if len(errs) > 0 {
			continue
		}
		old := &Entry{ID: id, Meta: m, Dir: dir}
		if m.Signature.Key() == key {
			return old, true
		}
		if id == e.ID {
			sameID = old
		}
	}
	return sameID, sameID != nil
}

// mergeMeta adds src's verdicts to dst. A version and method recorded
// differently in both is a conflict, resolved to src's verdict if overwrite.
func mergeMeta(dst *Meta, src Meta, overwrite bool) []string {
	var conflicts []string
	if dst.Verdicts == nil {
		dst.Verdicts = map[string]map[string]scenario.Verdict{}
	}
	for _, ver := range sortedKeys(src.Verdicts) {
		for _, m := range sortedKeys(src.Verdicts[ver]) {
			v := src.Verdicts[ver][m]
			old, ok := dst.Verdicts[ver][m]
			if ok && old != v {
				conflicts = append(conflicts, fmt.Sprintf("python %s %s: %s here, %s there", ver, m, old, v))
				if !overwrite {
					continue
				}
			}
			if dst.Verdicts[ver] == nil {
				dst.Verdicts[ver] = map[string]scenario.Verdict{}
			}
			dst.Verdicts[ver][m] = v
		}
	}
	if dst.Stack == "" {
		dst.Stack = src.Stack
	}
	if dst.Seed == nil {
		dst.Seed = src.Seed
	}
	return conflicts
}

// encodeMeta writes the meta file: the version line first, the stack as a
// literal block (yaml.v3 picks one for multi-line text without trailing
// blanks, hence the trim).
func encodeMeta(m Meta) ([]byte, error) {
	m.Format = FormatVersion
	m.Stack = threadID.ReplaceAllString(trimLines(m.Stack), "$1")
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode meta: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode meta: %w", err)
	}
	return b.Bytes(), nil
}

// threadID is a thread's address in a faulthandler header ("Thread
// 0x00007f2c...  (most recent call first):"): different at every recording,
// it would make every re-recorded meta differ in review for nothing.
var threadID = regexp.MustCompile(`(?m)^((?:Current thread|Thread)) 0x[0-9a-fA-F]+`)

func trimLines(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, " \t\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.Join(lines, "\n") + "\n"
}
