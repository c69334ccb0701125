package corpus

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// FuzzLoad feeds Load an entry made of arbitrary meta and scenario bytes. The
// files are named by the scenario's own hash when it parses, so the whole
// path (meta, program, scenario, hash check) is reached. Load must never
// panic, must report every problem as a *Error naming a file of the entry, and
// an entry it returns must be complete and valid.
func FuzzLoad(f *testing.F) {
	lock, err := os.ReadFile(filepath.Join("testdata", "lock.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	meta, err := encodeMeta(testEntry(f, "lock", lockSig).Meta)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(meta, lock)
	f.Add([]byte("forkfuzz: 1\n"), lock)
	f.Add([]byte("forkfuzz: 1\nsignature: {kind: lock}\nrecorded: 2024-01-01T00:00:00Z\nverdicts: {3.12: {fork: deadlock}}\n"), lock)
	f.Add([]byte("forkfuzz: 1\nsignature: &a {kind: lock}\nrecorded: *a\nverdicts: !!binary aGVsbG8=\n"), lock)
	f.Add([]byte("forkfuzz: 1\nseed: 99999999999999999999999\nsignature: {kind: lock, frames: [1, [2]]}\nrecorded: x\nverdicts: {a: b}\nstack: [x]\n"), []byte("forkfuzz: 1\n"))
	f.Add([]byte(""), []byte(""))
	f.Add([]byte("- forkfuzz: 1"), []byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, meta, scen []byte) {
		id := "0123456789abcdef"
		if s, err := scenario.Parse("f.yaml", scen); err == nil {
			id = idOf(s)
		}
		dir := t.TempDir()
		stem := filepath.Join(dir, id)
		for ext, data := range map[string][]byte{MetaExt: meta, ScenarioExt: scen, ProgramExt: []byte("pass\n")} {
			if err := os.WriteFile(stem+ext, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		entries, errs := Load(dir)
		for _, err := range errs {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is a %T, not a *corpus.Error", err, err)
			}
			if filepath.Dir(ce.File) != dir || ce.Msg == "" {
				t.Fatalf("error %q does not name a file of the entry with a message", err)
			}
		}
		switch {
		case len(entries)+len(errs) == 0:
			t.Fatal("neither an entry nor an error")
		case len(entries) > 1:
			t.Fatalf("%d entries from one", len(entries))
		case len(entries) == 1 && len(errs) > 0:
			t.Fatalf("an entry and errors %q", errs)
		case len(entries) == 1:
			e := entries[0]
			if e.Scenario == nil || e.Scenario.Validate() != nil || e.Meta.Signature.Kind == "" || e.Meta.Verdicts == nil {
				t.Fatalf("Load returned an incomplete entry: %+v", e)
			}
		}
	})
}
