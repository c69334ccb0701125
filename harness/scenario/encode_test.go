package scenario

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// clearPos removes what Marshal does not keep.
func clearPos(s *Scenario) *Scenario {
	c := s.Clone()
	c.File, c.Pos = "", Pos{}
	var clear func([]Step)
	clear = func(ss []Step) {
		for i := range ss {
			ss[i].Pos = Pos{}
			if f := ss[i].Fork; f != nil {
				f.Pos = Pos{}
				clear(f.Child)
			}
		}
	}
	for i := range c.Resources {
		c.Resources[i].Pos = Pos{}
	}
	for i := range c.Threads {
		c.Threads[i].Pos = Pos{}
		clear(c.Threads[i].Steps)
	}
	clear(c.Main)
	for i := range c.Expect {
		c.Expect[i].Pos = Pos{}
	}
	return c
}

// roundTrip checks Parse(Marshal(s)) == s, that Marshal is a fixed point
// and that Hash does not move.
func roundTrip(t testing.TB, s *Scenario) {
	t.Helper()
	out := Marshal(s)
	back, err := Parse("marshalled.yaml", out)
	if err != nil {
		t.Fatalf("Parse(Marshal(s)): %v\n%s", err, out)
	}
	if a, b := clearPos(s), clearPos(back); !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the scenario:\n got %#v\nwant %#v\n%s", b, a, out)
	}
	if again := Marshal(back); !bytes.Equal(again, out) {
		t.Fatalf("Marshal is not stable:\n%s\n---\n%s", out, again)
	}
	if s.Hash() != back.Hash() {
		t.Fatalf("Hash changed over a round trip")
	}
}

func TestRoundTrip(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			s, err := ParseFile(p)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, s)
		})
	}
	t.Run("built", func(t *testing.T) { roundTrip(t, built()) })
}

// TestMarshalCanonical pins the canonical form: key order, short forms,
// version first.
func TestMarshalCanonical(t *testing.T) {
	in := `name: lock-held
forkfuzz: 1
expect: [{python: "3.12", fork: ok}]
main:
  - {start: holder}
  - wait: held
  - fork: {child: [use: L], via: process}
threads: {holder: [take: L, park: {event: held}, release: L]}
resources: {L: {kind: lock}, W: {target: stdout, kind: buffered-writer}}
`
	// forkfuzz must come first: this input is rejected, its fix is not.
	if _, err := Parse("t.yaml", []byte(in)); err == nil {
		t.Fatalf("accepted forkfuzz as second key")
	}
	s, err := Parse("t.yaml", []byte("forkfuzz: 1\n"+in[:len("name: lock-held\n")]+in[len("name: lock-held\nforkfuzz: 1\n"):]))
	if err != nil {
		t.Fatal(err)
	}
	want := `forkfuzz: 1
name: lock-held
resources:
  L: lock
  W: {kind: buffered-writer, target: stdout}
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
expect:
  - python: "3.12"
    fork: ok
`
	if got := string(Marshal(s)); got != want {
		t.Errorf("Marshal:\n%s\nwant:\n%s", got, want)
	}
}

func TestHash(t *testing.T) {
	a := built()
	h := a.Hash()
	if len(h) != 64 {
		t.Fatalf("Hash %q is not hex sha256", h)
	}
	b := built()
	b.Name, b.About = "other-name", "other words"
	b.Main[2].Fork.Processes, b.Main[2].Fork.Tasks = DefaultProcesses, DefaultTasks
	if b.Hash() != h {
		t.Errorf("Hash depends on name, about or spelled-out defaults")
	}
	c := built()
	c.Main[2].Fork.Via = ViaProcess
	if c.Hash() == h {
		t.Errorf("Hash ignores the via")
	}
	if Marshal(nil) != nil {
		t.Errorf("Marshal(nil) is not nil")
	}
}

func TestClone(t *testing.T) {
	a := built()
	a.Expect = []Expect{{Verdicts: map[string]Verdict{MethodFork: Deadlock}}}
	b := a.Clone()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("Clone differs")
	}
	b.Resources[0].Name = "M"
	b.Threads[0].Steps[0].Resource = "M"
	b.Main[2].Fork.Child[0].Resource = "M"
	b.Main[2].Fork.Via = ViaOSFork
	b.Expect[0].Verdicts[MethodFork] = OK
	want := built()
	want.Expect = []Expect{{Verdicts: map[string]Verdict{MethodFork: Deadlock}}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("Clone shares memory with the original: %+v", a)
	}
	var nilS *Scenario
	if nilS.Clone() != nil {
		t.Errorf("Clone(nil) is not nil")
	}
}

// TestMarshalHostile marshals values that need quoting and checks they
// come back unchanged.
func TestMarshalHostile(t *testing.T) {
	for _, about := range []string{
		"plain", "123", "true", "null", "~", "- a", ": b", "#c", "'single'", `"double"`, `back\slash`,
		"line\nbreak", "\nleading newline", "trailing newline\n\n", "  leading spaces", "trailing spaces  ",
		"tab\there", "__import__('os').system('touch /tmp/x')", "\"\"\"; import os #", "ｆｏｒｋ ƒork",
		"%YAML 1.2", "---", "...", "&anchor", "*alias", "!tag", "{a: b}", "[1, 2]", "a: b\n  c: d",
		" \n \n", "é\u00a0\u200b", "\t", "x\n\ty\n  z",
	} {
		s := built()
		s.About = about
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%q): %v", about, err)
			continue
		}
		roundTrip(t, s)
	}
}

func TestExampleFilesAreCanonical(t *testing.T) {
	// Not required, but a changed canonical form should be a decision.
	s, err := ParseFile("testdata/locks-os-fork.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("testdata/locks-os-fork.yaml")
	if !bytes.Equal(Marshal(s), data) {
		t.Errorf("testdata/locks-os-fork.yaml is not in canonical form:\n%s", Marshal(s))
	}
}
