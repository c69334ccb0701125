package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// valid is a minimal valid scenario; the table below breaks it one rule at
// a time.
const valid = `forkfuzz: 1
name: lock-held
resources:
  L: lock
threads:
  holder:
    - take: L
    - park: held
    - release: L
main:
  - start: holder
  - wait: held
  - fork:
      via: process
      child:
        - use: L
`

func TestParseValid(t *testing.T) {
	s, err := Parse("v.yaml", []byte(valid))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Scenario{
		Name:      "lock-held",
		Resources: []Resource{{Name: "L", Kind: Lock, Pos: Pos{4, 3}}},
		Threads: []Thread{{Name: "holder", Pos: Pos{6, 3}, Steps: []Step{
			{Op: OpTake, Resource: "L", Pos: Pos{7, 7}},
			{Op: OpPark, Event: "held", Pos: Pos{8, 7}},
			{Op: OpRelease, Resource: "L", Pos: Pos{9, 7}},
		}}},
		Main: []Step{
			{Op: OpStart, Thread: "holder", Pos: Pos{11, 5}},
			{Op: OpWait, Event: "held", Pos: Pos{12, 5}},
			{Op: OpFork, Pos: Pos{13, 5}, Fork: &Fork{Via: ViaProcess, Pos: Pos{14, 7}, Child: []Step{
				{Op: OpUse, Resource: "L", Pos: Pos{16, 11}},
			}}},
		},
		File: "v.yaml",
		Pos:  Pos{1, 1},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", s, want)
	}
}

// TestParseErrors breaks one rule per case (cases_test.go) and asserts the
// exact message.
func TestParseErrors(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tc.yaml)
			}
			if s != nil {
				t.Errorf("Parse returned a scenario with its error")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Errorf("error is %T, not Errors", err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Parse error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestParseAllErrors checks that three unrelated mistakes are all reported,
// in file order.
func TestParseAllErrors(t *testing.T) {
	in := edit("L: lock", "L: mutex", "  - start: holder\n", "  - start: holder\n  - start: ghost\n", "via: process", "via: vfork")
	_, err := Parse("t.yaml", []byte(in))
	want := `t.yaml:4:6: unknown resource kind "mutex" (want one of lock, rlock, condition, semaphore, queue, logging-handler, logging-module, buffered-writer, module, sqlite, executor, mp-lock)
t.yaml:12:12: undeclared thread "ghost"
t.yaml:15:12: unknown via "vfork" (want os.fork, process or pool)`
	if err == nil || err.Error() != want {
		t.Errorf("Parse error:\n got %v\nwant %s", err, want)
	}
}

// TestParseAccepts lists valid variations: short and long forms, and what
// the rules allow on purpose.
func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
	}{
		{"long resource form", edit("L: lock", "L: {kind: lock}")},
		{"long park form", edit("park: held", "park: {event: held}")},
		{"park inside", edit("    - take: L\n    - park: held\n    - release: L\n", "    - park: {event: held, in: L}\n")},
		{"rlock taken twice", edit("L: lock", "L: rlock", "    - take: L\n", "    - take: L\n    - take: L\n", "    - release: L\n", "    - release: L\n    - release: L\n")},
		{"condition taken twice", edit("L: lock", "L: condition", "    - take: L\n", "    - take: L\n    - take: L\n")},
		{"expect map", valid + "expect:\n  fork: deadlock\n  spawn: ok\n"},
		{"expect list", valid + "expect:\n  - python: <3.12\n    fork: deadlock\n  - python: 3.12\n    fork: ok\n"},
		{"flow step", edit("    - take: L\n", "    - {take: L}\n")},
		{"empty child", edit("      child:\n        - use: L\n", "      child: []\n")},
		{"exit last", edit("        - use: L\n", "        - use: L\n        - exit: normal\n")},
		{"signal in child", edit("        - use: L\n", "        - use: L\n        - signal: done\n")},
		{"thread waits for a signal", edit("    - take: L\n", "    - wait: go\n    - take: L\n", "  - start: holder\n", "  - start: holder\n  - signal: go\n")},
		{"pool options", edit("via: process", "via: pool\n      processes: 8\n      tasks: 64")},
		{"comments", "# a scenario\n" + valid + "# end\n"},
		{"unguarded", edit("name: lock-held\n", "name: lock-held\nunguarded: false\n")},
		{"about with tabs and newlines", edit("name: lock-held\n", "name: lock-held\nabout: \"a\\tb\\nc\"\n")},
		{"longest names", edit("name: lock-held", "name: a"+strings.Repeat("-", 63), "park: held", "park: E"+strings.Repeat("_", 31), "wait: held", "wait: E"+strings.Repeat("_", 31))},
		{"at the limits", manyThreads(3, 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse("t.yaml", []byte(tc.yaml)); err != nil {
				t.Errorf("Parse:\n%v\n%s", err, tc.yaml)
			}
		})
	}
}

// TestParseFile checks what ParseFile says about files it cannot parse at
// all: the real size of a large file, a limit for a stream that has no
// size, a directory.
func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(valid+"about: "+strings.Repeat("x", 2*MaxFileSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	adir := filepath.Join(dir, "adir.yaml")
	if err := os.Mkdir(adir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{big, big + ": file is 2097374 bytes, more than the limit of 1048576 (MaxFileSize)"},
		{"/dev/zero", "/dev/zero: file is more than the limit of 1048576 bytes (MaxFileSize)"},
		{adir, adir + ": is a directory, not a scenario file"},
	} {
		if _, err := os.Stat(tc.path); err != nil {
			t.Logf("skip %s: %v", tc.path, err)
			continue
		}
		_, err := ParseFile(tc.path)
		var es Errors
		if !errors.As(err, &es) || err.Error() != tc.want {
			t.Errorf("ParseFile(%s):\n got %v (%T)\nwant %s", tc.path, err, err, tc.want)
		}
	}
	if _, err := ParseFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Errorf("ParseFile of a missing file: no error")
	}
	// In memory, the size is known.
	_, err := Parse("t.yaml", make([]byte, MaxFileSize+10))
	if want := "t.yaml: file is 1048586 bytes, more than the limit of 1048576 (MaxFileSize)"; err == nil || err.Error() != want {
		t.Errorf("Parse:\n got %v\nwant %s", err, want)
	}
}

// TestParseDir reports every bad file and still returns the good ones.
func TestParseDir(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml":   valid,
		"b.yaml":   edit("L: lock", "L: mutex"),
		"c.yaml":   "forkfuzz: [\n",
		"d.yaml":   edit("name: lock-held", "name: other"),
		"e.yaml":   valid, // the name of a.yaml again
		"note.txt": "not a scenario",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := ParseDir(dir)
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	if want := []string{"lock-held", "other"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ParseDir scenarios: got %v, want %v", names, want)
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("ParseDir: want 3 errors, got %v", err)
	}
	for i, file := range []string{"b.yaml", "c.yaml", "e.yaml"} {
		if filepath.Base(es[i].File) != file {
			t.Errorf("error %d is about %s, want %s: %v", i, es[i].File, file, es[i])
		}
	}
	if !strings.Contains(es[2].Msg, "also used by") {
		t.Errorf("duplicate name not reported: %v", es[2])
	}
}

// TestExamples parses the examples in testdata and checks that together
// they use every kind, op and via, so that renderers can test against them.
func TestExamples(t *testing.T) {
	ss, err := ParseDir("testdata")
	if err != nil {
		t.Fatalf("ParseDir: %v", err)
	}
	if len(ss) != 3 {
		t.Fatalf("want 3 examples, got %d", len(ss))
	}
	seen := map[string]bool{}
	var visit func([]Step)
	visit = func(steps []Step) {
		for _, st := range steps {
			seen["op "+string(st.Op)] = true
			if st.Fork != nil {
				seen["via "+string(st.Fork.Via)] = true
				visit(st.Fork.Child)
			}
		}
	}
	for _, s := range ss {
		for _, r := range s.Resources {
			seen["kind "+string(r.Kind)] = true
		}
		for _, th := range s.Threads {
			visit(th.Steps)
		}
		visit(s.Main)
	}
	var want []string
	for _, k := range Kinds {
		want = append(want, "kind "+string(k))
	}
	for op := range opRules {
		want = append(want, "op "+string(op))
	}
	for _, v := range Vias {
		want = append(want, "via "+string(v))
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no example uses %s", w)
		}
	}
}
