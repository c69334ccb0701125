package corpus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

var (
	lockSig = signature.Signature{Kind: scenario.Lock, Held: "take lock", Where: "child",
		Blocked: "use lock", Frames: []string{"__main__:child"}}
	mpSig = signature.Signature{Kind: scenario.MPLock, Held: "take mp-lock", Where: "child",
		Blocked: "use mp-lock"}
)

// testEntry builds an entry from testdata/NAME.yaml and NAME.py.
func testEntry(t testing.TB, name string, sig signature.Signature) *Entry {
	t.Helper()
	s, err := scenario.ParseFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := os.ReadFile(filepath.Join("testdata", name+".py"))
	if err != nil {
		t.Fatal(err)
	}
	seed := int64(42)
	e := NewEntry(s, prog, sig, &seed)
	e.Record("3.11.7", scenario.MethodFork, scenario.Deadlock)
	e.Record("3.11.7", scenario.MethodSpawn, scenario.OK)
	e.Record("3.8.18", scenario.MethodFork, scenario.Deadlock)
	e.Meta.Stack = "Current thread 0x00007f (most recent call first):  \n  File \"x.py\", line 40 in child\n"
	return e
}

func TestWriteLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	e := testEntry(t, "lock", lockSig)
	id, err := Write(dir, e)
	if err != nil {
		t.Fatal(err)
	}
	if id != e.ID || len(id) != IDLen || id != e.Scenario.Hash()[:IDLen] {
		t.Fatalf("Write returned ID %q, entry ID %q, want the scenario hash prefix", id, e.ID)
	}
	meta, err := os.ReadFile(filepath.Join(dir, id+MetaExt))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"forkfuzz: 1\n", "seed: 42\n", "stack: |", "  3.8.18:\n    fork: deadlock\n  3.11.7:"} {
		if !strings.Contains(string(meta), want) {
			t.Errorf("meta file lacks %q:\n%s", want, meta)
		}
	}
	if !strings.HasPrefix(string(meta), "forkfuzz: 1\n") {
		t.Errorf("meta file does not start with its version line:\n%s", meta)
	}
	// Folders not named as an entry's file are not the corpus's business.
	for _, sub := range []string{"archive", "old.yaml", id + ".d"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	entries, errs := Load(dir)
	if len(errs) > 0 || len(entries) != 1 {
		t.Fatalf("Load: %d entries, errors %v", len(entries), errs)
	}
	got := entries[0]
	if got.ID != id || got.Dir != dir || string(got.Program) != string(e.Program) {
		t.Errorf("loaded ID %q dir %q, program equal %v", got.ID, got.Dir, string(got.Program) == string(e.Program))
	}
	if got.Scenario.Hash() != e.Scenario.Hash() {
		t.Errorf("scenario changed in the round trip")
	}
	if got.Meta.Signature.Key() != lockSig.Key() || got.Meta.Seed == nil || *got.Meta.Seed != 42 {
		t.Errorf("meta: signature %q seed %v", got.Meta.Signature.Key(), got.Meta.Seed)
	}
	if !got.Meta.Recorded.Equal(e.Meta.Recorded) {
		t.Errorf("recorded %v, want %v", got.Meta.Recorded, e.Meta.Recorded)
	}
	if fmt.Sprint(got.Meta.Verdicts) != fmt.Sprint(e.Meta.Verdicts) {
		t.Errorf("verdicts %v, want %v", got.Meta.Verdicts, e.Meta.Verdicts)
	}
	// Trailing blanks and the thread's address (new at every recording) go.
	if want := "Current thread (most recent call first):\n  File \"x.py\", line 40 in child\n"; got.Meta.Stack != want {
		t.Errorf("stack %q", got.Meta.Stack)
	}
	if vs := got.Versions(); fmt.Sprint(vs) != "[3.8.18 3.11.7]" {
		t.Errorf("Versions() = %v", vs)
	}
}

func TestWriteDedupesBySignature(t *testing.T) {
	dir := t.TempDir()
	a := testEntry(t, "lock", lockSig)
	b := testEntry(t, "mplock", lockSig) // another scenario, the same bug
	b.Meta.Verdicts = nil
	b.Record("3.12.1", scenario.MethodFork, scenario.Deadlock)
	idA, err := Write(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	idB, err := Write(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if idB != idA {
		t.Errorf("second write with the same signature made entry %s, want merged into %s", idB, idA)
	}
	entries, errs := Load(dir)
	if len(errs) > 0 || len(entries) != 1 {
		t.Fatalf("Load: %d entries, errors %v", len(entries), errs)
	}
	if v, ok := entries[0].Recorded("3.12.1", scenario.MethodFork); !ok || v != scenario.Deadlock {
		t.Errorf("merged verdict 3.12.1 fork = %q, %v", v, ok)
	}
	if v, _ := entries[0].Recorded("3.11.7", scenario.MethodFork); v != scenario.Deadlock {
		t.Errorf("kept verdict 3.11.7 fork = %q", v)
	}
	c := testEntry(t, "mplock", mpSig)
	if idC, err := Write(dir, c); err != nil || idC == idA {
		t.Errorf("a new signature gave ID %s, err %v; want a second entry", idC, err)
	}
}

// TestLoadReportsBadEntries corrupts one of two entries in each way and checks
// that the error names the corrupt file (with line:col for YAML problems)
// while the other entry still loads.
func TestLoadReportsBadEntries(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, stem string)
		want    string // in the error, after the file name
	}{
		{"bad YAML in meta", edit(MetaExt, "verdicts:", "verdicts: [\n"), MetaExt + ":"},
		{"meta missing verdicts", edit(MetaExt, "verdicts:", "verdictz:"), MetaExt + ":11:1: unknown key \"verdictz\""},
		{"meta missing signature kind", edit(MetaExt, "  kind: lock\n", ""), MetaExt + ":3:3: signature: missing kind"},
		{"meta wrong version line", edit(MetaExt, "forkfuzz: 1", "forkfuzz: 2"), MetaExt + ":1:11: unsupported meta format version"},
		{"meta without version line", edit(MetaExt, "forkfuzz: 1\n", ""), MetaExt + ":1:1: the first line must be"},
		{"meta unknown verdict", edit(MetaExt, "spawn: ok", "spawn: fine"), MetaExt + ":16:12: verdicts: python 3.11.7 spawn: unknown verdict \"fine\""},
		{"meta is a directory", replace(MetaExt, func(p string) error { return os.Mkdir(p, 0o755) }), MetaExt + ": not a regular file but a directory"},
		{"meta is a named pipe", replace(MetaExt, func(p string) error { return syscall.Mkfifo(p, 0o644) }), MetaExt + ": not a regular file but a named pipe"},
		{"meta is a dangling link", replace(MetaExt, func(p string) error { return os.Symlink("nowhere", p) }), MetaExt + ": no such file or directory"},
		{"empty meta", writeFile(MetaExt, ""), MetaExt + ": empty file: want a mapping whose first line is 'forkfuzz: 1'"},
		{"blank meta", writeFile(MetaExt, "\n  \n"), MetaExt + ": empty file: want"},
		{"meta of comments only", writeFile(MetaExt, "# forkfuzz: 1\n"), MetaExt + ": no YAML document: want a mapping"},
		{"NUL in meta", edit(MetaExt, "  kind: lock", "  kind: lo\x00ck"), MetaExt + ":3:11: control character U+0000 is not allowed (a meta file is YAML text)"},
		{"DEL in meta", edit(MetaExt, "forkfuzz: 1\n", "forkfuzz: 1\n\x7f"), MetaExt + ":2:1: control character U+007F is not allowed"},
		{"U+FFFF in meta", edit(MetaExt, "forkfuzz: 1\n", "forkfuzz: 1\n\uffff"), MetaExt + ":2:1: noncharacter U+FFFF is not allowed"},
		{"binary meta", writeFile(MetaExt, "forkfuzz: 1\n\tx\xff\xfe\x00"), MetaExt + ":2:3: invalid UTF-8 byte 0xff (a meta file is UTF-8 text)"},
		{"meta over the size limit", replace(MetaExt, func(p string) error { return sparse(p, MaxMetaSize+1) }),
			MetaExt + fmt.Sprintf(": file is %d bytes, more than the limit of %d for a meta file", MaxMetaSize+1, MaxMetaSize)},
		{"scenario over the size limit", replace(ScenarioExt, func(p string) error { return sparse(p, 63<<20) }),
			ScenarioExt + fmt.Sprintf(": file is %d bytes, more than the limit of %d for a scenario", 63<<20, scenario.MaxFileSize)},
		{"program is a directory", replace(ProgramExt, func(p string) error { return os.Mkdir(p, 0o755) }), ProgramExt + ": not a regular file but a directory"},
		{"missing program", remove(ProgramExt), ProgramExt + ": missing"},
		{"edited scenario", edit(ScenarioExt, "use: L", "take: L"), ScenarioExt + ": content hash"},
		{"broken scenario", edit(ScenarioExt, "L: lock", "L: padlock"), ScenarioExt + ":"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bad, err := Write(dir, testEntry(t, "lock", lockSig))
			if err != nil {
				t.Fatal(err)
			}
			good, err := Write(dir, testEntry(t, "mplock", mpSig))
			if err != nil {
				t.Fatal(err)
			}
			tt.corrupt(t, filepath.Join(dir, bad))
			entries, errs := Load(dir)
			if len(entries) != 1 || entries[0].ID != good {
				t.Errorf("loaded %d entries, want only the good one %s", len(entries), good)
			}
			if len(errs) == 0 {
				t.Fatal("no error for the corrupt entry")
			}
			var ce *Error
			if !errors.As(errs[0], &ce) {
				t.Fatalf("error %v is not a *corpus.Error", errs[0])
			}
			found := false
			for _, err := range errs {
				found = found || strings.Contains(err.Error(), filepath.Join(dir, bad)+tt.want)
				if ce, ok := err.(*Error); !ok || ce.Entry() != filepath.Join(dir, bad) {
					t.Errorf("error %q: not a *corpus.Error of entry %s", err, bad)
				}
			}
			if !found {
				t.Errorf("errors %q, want one to contain %q", errs, bad+tt.want)
			}
		})
	}
}

func edit(ext, old, new string) func(*testing.T, string) {
	return func(t *testing.T, stem string) {
		data, err := os.ReadFile(stem + ext)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s has no %q:\n%s", stem+ext, old, data)
		}
		if err := os.WriteFile(stem+ext, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(ext, text string) func(*testing.T, string) {
	return replace(ext, func(p string) error { return os.WriteFile(p, []byte(text), 0o644) })
}

// replace removes the file and lets mk put something else in its place.
func replace(ext string, mk func(path string) error) func(*testing.T, string) {
	return func(t *testing.T, stem string) {
		remove(ext)(t, stem)
		if err := mk(stem + ext); err != nil {
			t.Fatal(err)
		}
	}
}

// sparse makes a file of size bytes that takes no disk space.
func sparse(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Truncate(size)
}

func remove(ext string) func(*testing.T, string) {
	return func(t *testing.T, stem string) {
		if err := os.Remove(stem + ext); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMerge(t *testing.T) {
	src1, src2, dst := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "corpus")
	lock := testEntry(t, "lock", lockSig)
	if _, err := Write(src1, lock); err != nil {
		t.Fatal(err)
	}
	// src2: the same bug found by another scenario, with one more version
	// and one conflicting verdict, and another bug.
	twin := testEntry(t, "mplock", lockSig)
	twin.Meta.Verdicts = nil
	twin.Record("3.13.0", scenario.MethodFork, scenario.Deadlock)
	twin.Record("3.11.7", scenario.MethodSpawn, scenario.Hang)
	if _, err := Write(src2, twin); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src2, "README.md"), []byte("not an entry"), 0o644); err != nil {
		t.Fatal(err)
	}
	added, merged, errs := Merge(dst, src1, src2)
	if added != 1 || merged != 1 {
		t.Errorf("Merge: added %d merged %d, want 1 and 1", added, merged)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "python 3.11.7 spawn: ok here, hang there") {
		t.Errorf("Merge errors %v, want the one conflict", errs)
	}
	entries, lerrs := Load(dst)
	if len(lerrs) > 0 || len(entries) != 1 {
		t.Fatalf("dst: %d entries, errors %v", len(entries), lerrs)
	}
	e := entries[0]
	if v, _ := e.Recorded("3.13.0", scenario.MethodFork); v != scenario.Deadlock {
		t.Errorf("3.13.0 fork = %q, want deadlock merged in", v)
	}
	if v, _ := e.Recorded("3.11.7", scenario.MethodSpawn); v != scenario.OK {
		t.Errorf("3.11.7 spawn = %q, want dst's ok kept", v)
	}
	// Merging again changes nothing and adds nothing.
	added, merged, _ = Merge(dst, src1)
	if added != 0 || merged != 1 {
		t.Errorf("second Merge: added %d merged %d", added, merged)
	}
	if entries, _ := Load(dst); len(entries) != 1 {
		t.Errorf("second Merge left %d entries", len(entries))
	}
}

func TestShardPartitions(t *testing.T) {
	var entries []*Entry
	for i := 0; i < 60; i++ {
		entries = append(entries, &Entry{ID: fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)})
	}
	for _, n := range []int{1, 2, 3, 4, 7} {
		seen := map[string]int{}
		for k := 1; k <= n; k++ {
			shard := Shard(entries, k, n)
			if n > 1 && len(shard) == len(entries) {
				t.Errorf("shard %d/%d holds every entry", k, n)
			}
			for _, e := range shard {
				seen[e.ID]++
			}
			if again := Shard(entries, k, n); fmt.Sprint(again) != fmt.Sprint(shard) {
				t.Errorf("shard %d/%d differs between calls", k, n)
			}
		}
		for _, e := range entries {
			if seen[e.ID] != 1 {
				t.Errorf("n=%d: entry %s in %d shards, want exactly 1", n, e.ID, seen[e.ID])
			}
		}
	}
	if got := Shard(entries, 0, 2); got != nil {
		t.Errorf("Shard(k=0) = %d entries, want none", len(got))
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		k, n    int
		wantErr bool
	}{
		{"1/1", 1, 1, false},
		{"2/4", 2, 4, false},
		{" 3 / 3 ", 3, 3, false},
		{"0/4", 0, 0, true},
		{"5/4", 0, 0, true},
		{"1/0", 0, 0, true},
		{"2", 0, 0, true},
		{"a/b", 0, 0, true},
		{"-1/2", 0, 0, true},
	}
	for _, tt := range tests {
		k, n, err := ParseShard(tt.in)
		if (err != nil) != tt.wantErr || k != tt.k || n != tt.n {
			t.Errorf("ParseShard(%q) = %d, %d, %v", tt.in, k, n, err)
		}
	}
}

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"3.8.18", "3.10.1", true},
		{"3.10.1", "3.8.18", false},
		{"3.12.1", "3.12.10", true},
		{"3.13.0", "3.13.0t", true},
		{"3.12", "3.12.0", true},
		{"3.12.1", "3.12.1", false},
	}
	for _, tt := range tests {
		if got := VersionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("VersionLess(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestWriteRefusesIncompleteEntries(t *testing.T) {
	good := testEntry(t, "lock", lockSig)
	tests := []struct {
		name  string
		entry *Entry
	}{
		{"nil", nil},
		{"no program", &Entry{ID: good.ID, Scenario: good.Scenario, Meta: good.Meta}},
		{"no signature", &Entry{ID: good.ID, Scenario: good.Scenario, Program: good.Program}},
		{"bad ID", &Entry{ID: "../x", Scenario: good.Scenario, Program: good.Program, Meta: good.Meta}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if _, err := Write(dir, tt.entry); err == nil {
			t.Errorf("%s: Write accepted it", tt.name)
		}
		if names, _ := os.ReadDir(dir); len(names) != 0 {
			t.Errorf("%s: Write left %d files", tt.name, len(names))
		}
	}
}

// TestLoadSkipsInterruptedWrites: a write killed before its meta leaves a
// scenario and maybe a program, which are no entry and no error; the next
// Write of the same entry completes it.
func TestLoadSkipsInterruptedWrites(t *testing.T) {
	for _, left := range []string{ScenarioExt, ScenarioExt + ProgramExt} {
		t.Run(left, func(t *testing.T) {
			dir := t.TempDir()
			e := testEntry(t, "lock", lockSig)
			id, err := Write(dir, e)
			if err != nil {
				t.Fatal(err)
			}
			remove(MetaExt)(t, filepath.Join(dir, id))
			if !strings.Contains(left, ProgramExt) {
				remove(ProgramExt)(t, filepath.Join(dir, id))
			}
			if entries, errs := Load(dir); len(entries) != 0 || len(errs) != 0 {
				t.Fatalf("Load: %d entries, errors %q; want none", len(entries), errs)
			}
			if _, err := Write(dir, testEntry(t, "lock", lockSig)); err != nil {
				t.Fatal(err)
			}
			if entries, errs := Load(dir); len(entries) != 1 || len(errs) != 0 {
				t.Fatalf("Load after a new Write: %d entries, errors %q; want 1", len(entries), errs)
			}
		})
	}
}
