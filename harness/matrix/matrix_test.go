package matrix

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixed is a matrix built from fixed results: a kind unsafe under fork on
// every version, one unsafe on some, one safe, one stuck under every method,
// one that errors, and a corpus entry.
func fixed() *Matrix {
	cases := []Case{
		{Kind: scenario.SQLite, Name: "sqlite-shared-connection", Source: SourceScenario},
		{Kind: scenario.Lock, Name: "lock-held-by-thread", Source: SourceScenario},
		{Kind: scenario.Lock, Name: "threads-holding-nothing", Source: SourceScenario},
		{Kind: scenario.LoggingModule, Name: "logging-module-lock-held", Source: SourceScenario},
		{Kind: scenario.MPLock, Name: "mp-lock-released-by-parent", Source: SourceScenario},
		{Kind: scenario.BufferedWriter, Name: "stdout-full", Source: SourceScenario},
		{Kind: scenario.Lock, Name: "lock-held-by-thread abcdef01", Source: SourceCorpus},
		{Kind: scenario.Executor, Name: "executor-broken", Source: SourceScenario},
		{Kind: scenario.Lock, Name: "unguarded-module-level-thread", Source: SourceScenario, Unguarded: true},
	}
	m, rowOf := newMatrix(cases, []string{"3.10", "3.8", "3.12"}, []string{"fork", "spawn"})
	dl := Cell{Verdict: scenario.Deadlock, Where: "child"}
	ph := Cell{Verdict: scenario.Deadlock, Where: "parent"}
	ok := Cell{Verdict: scenario.OK}
	set := func(c int, p string, fork, spawn Cell) {
		m.Set(rowOf[c], p, "fork", fork)
		m.Set(rowOf[c], p, "spawn", spawn)
	}
	for _, p := range []string{"3.8", "3.10", "3.12"} {
		set(1, p, dl, ok)
		set(2, p, ok, ok)
		set(3, p, ph, ok)
		set(4, p, ok, ok)
		set(5, p, ph, Cell{Verdict: scenario.Hang, Reason: "no proof and no exit within 10s"})
		set(6, p, dl, ok)
		set(8, p, dl, dl)
	}
	set(0, "3.8", dl, ok) // unsafe on 3.8 only; 3.12 not run
	set(0, "3.10", ok, ok)
	set(7, "3.8", Cell{Verdict: scenario.ErrorVerdict, Reason: "ValueError: boom"}, ok)
	set(7, "3.10", ok, Cell{Verdict: scenario.Crash, Reason: "killed by SIGSEGV"})
	set(7, "3.12", ok, ok)
	return m
}

func TestGolden(t *testing.T) {
	m := fixed()
	csvOut, err := m.CSV()
	if err != nil {
		t.Fatal(err)
	}
	jsonOut, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		file string
		got  []byte
	}{
		{"matrix.md.golden", m.Markdown()},
		{"matrix.csv.golden", csvOut},
		{"matrix.json.golden", jsonOut},
	} {
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, g.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(g.got, want) {
			t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", g.file, g.got, want)
		}
	}
}

func TestAdvice(t *testing.T) {
	advice := map[scenario.Kind]string{}
	for _, a := range fixed().Advice() {
		advice[a.Kind] = a.Text
	}
	for _, c := range []struct {
		kind scenario.Kind
		want []string
		not  []string
	}{
		{scenario.Lock, []string{"unsafe under fork on every version found (3.8-3.12)", "lock-held-by-thread"}, []string{"threads-holding-nothing", "safe:"}},
		{scenario.SQLite, []string{"unsafe under fork on 3.8 ", "no fork deadlock on 3.10"}, []string{"3.12"}},
		{scenario.LoggingModule, []string{"unsafe under fork on every version found"}, nil},
		{scenario.MPLock, []string{"safe: every case completed under every method run on every version found (3.8-3.12)"}, []string{"unsafe"}},
		{scenario.BufferedWriter, []string{"hangs under every start method on every version found", "stdout-full"}, []string{"unsafe under fork"}},
		{scenario.Executor, []string{"errors or crashes on 3.8, 3.10 (executor-broken)"}, []string{"safe", "unsafe"}},
	} {
		got, ok := advice[c.kind]
		if !ok {
			t.Errorf("%s: no advice", c.kind)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: advice %q lacks %q", c.kind, got, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: advice %q has %q", c.kind, got, n)
			}
		}
	}
}

func TestCellCode(t *testing.T) {
	for _, c := range []struct {
		cell Cell
		want string
	}{
		{Cell{}, "-"},
		{Cell{Verdict: scenario.OK}, "ok"},
		{Cell{Verdict: scenario.Deadlock, Where: "child"}, "DL"},
		{Cell{Verdict: scenario.Deadlock, Where: "worker"}, "DL"},
		{Cell{Verdict: scenario.Deadlock, Where: "parent"}, "PH"},
		{Cell{Verdict: scenario.Hang}, "hang"},
		{Cell{Verdict: scenario.ErrorVerdict}, "err"},
		{Cell{Verdict: scenario.Crash}, "crash"},
	} {
		if got := c.cell.Code(); got != c.want {
			t.Errorf("%+v: code %q, want %q", c.cell, got, c.want)
		}
	}
}

func TestLessVersion(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"3.9", "3.10", true},
		{"3.10", "3.9", false},
		{"3.13", "3.13t", true},
		{"3.11", "3.11.7", true},
		{"3.8", "3.8", false},
	} {
		if got := lessVersion(c.a, c.b); got != c.want {
			t.Errorf("lessVersion(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestLibraryKinds files every library scenario and checks that every kind
// the library declares gets a row, and every row and column shows in every
// form (Markdown, CSV, JSON).
func TestLibraryKinds(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	if len(files) == 0 {
		t.Fatal("no library scenarios")
	}
	declared := map[scenario.Kind]bool{}
	var cases []Case
	for _, f := range files {
		s, err := scenario.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Resources {
			declared[r.Kind] = true
		}
		cases = append(cases, Case{Kind: KindOf(s), Name: s.Name, Source: SourceScenario})
	}
	pythons := []string{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"}
	m := New(cases, pythons, scenario.Methods)
	for i := range m.Rows {
		for _, p := range pythons {
			m.Set(i, p, "fork", Cell{Verdict: scenario.OK})
		}
	}
	md := string(m.Markdown())
	csvOut, _ := m.CSV()
	jsonOut, _ := m.JSON()
	records, err := csv.NewReader(bytes.NewReader(csvOut)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Rows []struct {
			Kind  string `json:"kind"`
			Cells []struct {
				Python string `json:"python"`
			} `json:"cells"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(jsonOut, &js); err != nil {
		t.Fatal(err)
	}
	for k := range declared {
		if !strings.Contains(md, "| "+string(k)+" (") {
			t.Errorf("kind %s: no row in the Markdown", k)
		}
		if !strings.Contains(md, "- **"+string(k)+"**:") {
			t.Errorf("kind %s: no advice in the Markdown", k)
		}
		if !hasField(records, 0, string(k)) {
			t.Errorf("kind %s: not in the CSV", k)
		}
		found := false
		for _, r := range js.Rows {
			found = found || r.Kind == string(k)
		}
		if !found {
			t.Errorf("kind %s: not in the JSON", k)
		}
	}
	for _, p := range pythons {
		for _, meth := range scenario.Methods {
			if !strings.Contains(md, " "+p+" "+meth+" |") {
				t.Errorf("column %s %s: not in the Markdown header", p, meth)
			}
		}
		if !hasField(records, 3, p) {
			t.Errorf("python %s: not in the CSV", p)
		}
	}
	if want := len(cases) * len(pythons) * len(scenario.Methods); len(records)-1 != want {
		t.Errorf("CSV has %d cells, want %d", len(records)-1, want)
	}
}

func hasField(records [][]string, col int, v string) bool {
	for _, r := range records[1:] {
		if r[col] == v {
			return true
		}
	}
	return false
}

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		file string
		want scenario.Kind
	}{
		{"ci-runner-pool.yaml", scenario.Lock}, // a lock and a log handler are held: the lock is declared first
		{"threads-holding-nothing.yaml", scenario.Lock},
		{"queue-mutex-held.yaml", scenario.Queue},
		{"rlock-held-by-forking-thread.yaml", scenario.RLock}, // held by main
		{"sqlite-fresh-connection.yaml", scenario.SQLite},
		{"buffered-writer-full-pipe.yaml", scenario.BufferedWriter},
		{"mp-lock-released-by-parent.yaml", scenario.MPLock},
	} {
		s, err := scenario.ParseFile(filepath.Join("../../scenarios", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if got := KindOf(s); got != c.want {
			t.Errorf("%s: kind %s, want %s", c.file, got, c.want)
		}
	}
}
