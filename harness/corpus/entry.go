// Package corpus owns the regression corpus: one entry per signature, named by
// a content hash of its canonical scenario, each a minimal scenario (ID.yaml),
// its rendered program (ID.py) and a metadata file (ID.meta.yaml) with the
// observed verdicts per Python version and start method. It owns the layout on
// disk, reading it back (a bad entry is reported by file, the others load),
// merging corpora and splitting one into shards; it runs nothing.
package corpus

import (
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// FormatVersion is the version of the meta file, its first line `forkfuzz: 1`.
const FormatVersion = 1

// IDLen is the length of an entry ID: a prefix of the scenario's hex hash.
const IDLen = 16

// Size limits of an entry's files, checked before one is read (the scenario
// has its own, scenario.MaxFileSize). A meta holds a stuck stack for every
// interpreter it was recorded on, a few KiB each, hence the headroom; a
// program is rendered from a scenario of at most 1 MiB.
const (
	MaxMetaSize    = 16 << 20
	MaxProgramSize = 16 << 20
)

// File suffixes of an entry's three files.
const (
	ScenarioExt = ".yaml"
	ProgramExt  = ".py"
	MetaExt     = ".meta.yaml"
)

// Entry is one corpus entry.
type Entry struct {
	ID       string             // content hash prefix of the canonical scenario; the file stem
	Scenario *scenario.Scenario // the minimal scenario
	Program  []byte             // its rendered program
	Meta     Meta
	// Dir is the folder the entry was loaded from or written to ("" when
	// only in memory); replay --update rewrites the meta there.
	Dir string
}

// Meta is the metadata block of an entry, kept readable and diff-friendly:
// yaml.v3 writes map keys in natural order (3.8 before 3.10), so a new
// Python version or method adds lines and moves none.
type Meta struct {
	Format    int                 `yaml:"forkfuzz"`
	Signature signature.Signature `yaml:"signature"`
	Seed      *int64              `yaml:"seed,omitempty"` // when found by fuzzing
	Recorded  time.Time           `yaml:"recorded"`
	// Verdicts maps a Python version ("3.12.1") to the verdict per start method.
	Verdicts map[string]map[string]scenario.Verdict `yaml:"verdicts"`
	Stack    string                                 `yaml:"stack,omitempty"` // the stuck process's Python stack, as first recorded
}

// NewEntry makes an entry for a minimal scenario, its rendered program and the
// signature of the bug it reproduces. Its ID is the scenario's content hash
// prefix, so the same scenario always lands in the same files.
func NewEntry(s *scenario.Scenario, prog []byte, sig signature.Signature, seed *int64) *Entry {
	e := &Entry{Scenario: s, Program: prog, Meta: Meta{
		Format:    FormatVersion,
		Signature: sig,
		Seed:      seed,
		Recorded:  time.Now().UTC().Truncate(time.Second),
		Verdicts:  map[string]map[string]scenario.Verdict{},
	}}
	if s != nil {
		e.ID = idOf(s)
	}
	return e
}

// Record notes the verdict observed on one Python version under one method.
func (e *Entry) Record(pythonVersion, method string, v scenario.Verdict) {
	if e.Meta.Verdicts == nil {
		e.Meta.Verdicts = map[string]map[string]scenario.Verdict{}
	}
	if e.Meta.Verdicts[pythonVersion] == nil {
		e.Meta.Verdicts[pythonVersion] = map[string]scenario.Verdict{}
	}
	e.Meta.Verdicts[pythonVersion][method] = v
}

// Recorded returns the verdict recorded for a Python version and method.
func (e *Entry) Recorded(pythonVersion, method string) (scenario.Verdict, bool) {
	v, ok := e.Meta.Verdicts[pythonVersion][method]
	return v, ok
}

func idOf(s *scenario.Scenario) string {
	h := s.Hash()
	if len(h) > IDLen {
		h = h[:IDLen]
	}
	return h
}
