package replay

import (
	"context"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// The entries are the hand-written programs of ../corpus/testdata: lock.py
// deadlocks under fork only; mplock.py (a shared lock) completes everywhere.
var recordedVerdicts = map[string]map[string]scenario.Verdict{
	"lock":   {"fork": scenario.Deadlock, "spawn": scenario.OK, "forkserver": scenario.OK},
	"mplock": {"fork": scenario.OK, "spawn": scenario.OK, "forkserver": scenario.OK},
}

func python3(t *testing.T) python.Interpreter {
	t.Helper()
	in, err := python.Default(context.Background())
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	return in
}

// testCorpus writes both entries to a folder, their verdicts recorded under
// version, and loads it back.
func testCorpus(t *testing.T, version string) (string, []*corpus.Entry) {
	t.Helper()
	dir := t.TempDir()
	for name, verdicts := range recordedVerdicts {
		s, err := scenario.ParseFile(filepath.Join("..", "corpus", "testdata", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		prog, err := os.ReadFile(filepath.Join("..", "corpus", "testdata", name+".py"))
		if err != nil {
			t.Fatal(err)
		}
		sig := signature.Signature{Kind: s.Resources[0].Kind, Held: "take " + string(s.Resources[0].Kind), Where: "child"}
		e := corpus.NewEntry(s, prog, sig, nil)
		for m, v := range verdicts {
			e.Record(version, m, v)
		}
		if _, err := corpus.Write(dir, e); err != nil {
			t.Fatal(err)
		}
	}
	return dir, load(t, dir)
}

func load(t *testing.T, dir string) []*corpus.Entry {
	t.Helper()
	entries, errs := corpus.Load(dir)
	if len(errs) > 0 || len(entries) != len(recordedVerdicts) {
		t.Fatalf("load: %d entries, errors %v", len(entries), errs)
	}
	return entries
}

// testNames maps the scenario names of testdata to their file names.
var testNames = map[string]string{"lock-held-at-fork": "lock", "mp-lock-held-at-fork": "mplock"}

func entryNamed(entries []*corpus.Entry, name string) *corpus.Entry {
	for _, e := range entries {
		if testNames[e.Scenario.Name] == name {
			return e
		}
	}
	return nil
}

// replayAll runs every case on python3 and checks each was classified once.
func replayAll(t *testing.T, entries []*corpus.Entry, in python.Interpreter) []*Case {
	t.Helper()
	opts := Options{Pythons: []python.Interpreter{in}, Jobs: 2, Timeout: 20 * time.Second}
	cases := Plan(entries, opts)
	if len(cases) != len(entries)*len(scenario.Methods) {
		t.Fatalf("Plan: %d cases, want %d", len(cases), len(entries)*len(scenario.Methods))
	}
	seen := map[*Case]int{}
	start := time.Now()
	if err := Run(context.Background(), cases, opts, func(c *Case) { seen[c]++ }); err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, c := range cases {
		if seen[c] != 1 {
			t.Errorf("%s %s: reported %d times", c.Entry.ID, c.Name(), seen[c])
		}
		for _, r := range c.Results {
			sum += r.ElapsedMS
		}
	}
	t.Logf("python %s: %d cases, %v wall, %.0f ms of executions", in.Version, len(cases), time.Since(start).Round(time.Millisecond), sum)
	return cases
}

func caseOf(cases []*Case, name, method string) *Case {
	for _, c := range cases {
		if testNames[c.Entry.Scenario.Name] == name && c.Method == method {
			return c
		}
	}
	return nil
}

func TestReplayMatchesRecorded(t *testing.T) {
	in := python3(t)
	_, entries := testCorpus(t, in.Version)
	for _, c := range replayAll(t, entries, in) {
		if c.Status != Pass || c.Failed() {
			t.Errorf("%s: status %s, reason %q", c.Name(), c.Status, c.Reason)
		}
	}
}

// TestReplayEditedVerdictFails edits a recorded verdict in the meta file, as
// a person (or a bad merge) would, and checks the replay fails with a reason
// naming the entry, the Python version and the method.
func TestReplayEditedVerdictFails(t *testing.T) {
	in := python3(t)
	tests := []struct {
		name, method    string
		from, to        scenario.Verdict
		status          Status
		wantReasonAfter string
	}{
		{"lock", "fork", scenario.Deadlock, scenario.OK, Regressed, "recorded ok, got deadlock (regressed)"},
		{"mplock", "fork", scenario.OK, scenario.Deadlock, Fixed, "recorded deadlock, got ok (fixed?)"},
		{"lock", "spawn", scenario.OK, scenario.ErrorVerdict, Changed, "recorded error, got ok (changed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"-"+tt.method, func(t *testing.T) {
			dir, entries := testCorpus(t, in.Version)
			e := entryNamed(entries, tt.name)
			meta := filepath.Join(dir, e.ID+corpus.MetaExt)
			data, err := os.ReadFile(meta)
			if err != nil {
				t.Fatal(err)
			}
			old := "    " + tt.method + ": " + string(tt.from) + "\n"
			if !strings.Contains(string(data), old) {
				t.Fatalf("meta has no %q:\n%s", old, data)
			}
			edited := strings.Replace(string(data), old, "    "+tt.method+": "+string(tt.to)+"\n", 1)
			if err := os.WriteFile(meta, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			cases := replayAll(t, load(t, dir), in)
			failed := 0
			for _, c := range cases {
				if c.Failed() {
					failed++
				}
			}
			c := caseOf(cases, tt.name, tt.method)
			want := e.ID + " python " + in.Version + " " + tt.method + ": " + tt.wantReasonAfter
			if failed != 1 || c.Status != tt.status || !strings.HasPrefix(c.Reason, want) {
				t.Errorf("%d failed; case status %s, reason %q; want 1 failed, %s, %q", failed, c.Status, c.Reason, tt.status, want)
			}
		})
	}
}

// TestUpdateRecordsNewVersion replays a corpus recorded only on a newer
// minor (nothing older to compare with): every case is new (not a failure)
// until --update records it.
func TestUpdateRecordsNewVersion(t *testing.T) {
	in := python3(t)
	dir, entries := testCorpus(t, "3.99.1")
	cases := replayAll(t, entries, in)
	for _, c := range cases {
		if c.Status != New || c.Failed() || !strings.Contains(c.Reason, "new: not recorded, got ") {
			t.Errorf("%s: status %s, failed %v, reason %q; want new", c.Name(), c.Status, c.Failed(), c.Reason)
		}
	}
	n, held, errs := Update(cases, UpdateOptions{})
	if n != len(cases) || len(held) > 0 || len(errs) > 0 {
		t.Fatalf("Update recorded %d of %d, errors %v", n, len(cases), errs)
	}
	reloaded := load(t, dir)
	for _, c := range replayAll(t, reloaded, in) {
		if c.Status != Pass || c.RecordedOn != in.Version {
			t.Errorf("after update %s %s: status %s recorded on %q", c.Entry.Scenario.Name, c.Name(), c.Status, c.RecordedOn)
		}
		if _, ok := c.Entry.Recorded("3.99.1", c.Method); !ok {
			t.Errorf("update lost the 3.99.1 verdict of %s", c.Entry.ID)
		}
	}
}

// TestJUnit replays with one edited verdict and two unreadable entries (one
// with two bad files) and reads the report back: one failure, two errors.
func TestJUnit(t *testing.T) {
	in := python3(t)
	dir, entries := testCorpus(t, in.Version)
	lock := entryNamed(entries, "lock")
	lock.Meta.Verdicts[in.Version]["fork"] = scenario.OK // recorded ok: now a regression
	cases := replayAll(t, entries, in)
	loadErrs := []error{
		&corpus.Error{File: filepath.Join(dir, "00000000deadbeef.meta.yaml"), Line: 3, Col: 1, Msg: "bad"},
		&corpus.Error{File: filepath.Join(dir, "00000000deadbeef.py"), Msg: "missing: the entry is incomplete"},
		&corpus.Error{File: filepath.Join(dir, "11111111deadbeef.meta.yaml"), Msg: "empty file"},
	}
	path := filepath.Join(t.TempDir(), "report.xml")
	if err := WriteJUnit(path, cases, loadErrs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var report junitSuites
	if err := xml.Unmarshal(data, &report); err != nil {
		t.Fatalf("report does not parse: %v\n%s", err, data)
	}
	var cs []junitCase
	for _, s := range report.Suites {
		cs = append(cs, s.Cases...)
	}
	want := len(entries)*1*len(scenario.Methods) + 2
	if len(cs) != want || report.Tests != want || len(report.Suites) != 2 {
		t.Fatalf("%d testcases (tests=%d) in %d suites, want %d in 2", len(cs), report.Tests, len(report.Suites), want)
	}
	if report.Suites[0].Name != "python "+in.Version || report.Failures != 1 || report.Errors != 2 {
		t.Errorf("suite %q, %d failures, %d errors; want python %s, 1, 2", report.Suites[0].Name, report.Failures, report.Errors, in.Version)
	}
	var fail *junitCase
	for i, c := range cs {
		if c.Classname == lock.ID && c.Name == "python "+in.Version+" fork" {
			fail = &cs[i]
		}
	}
	if fail == nil || fail.Failure == nil {
		t.Fatalf("no failure for %s python %s fork:\n%s", lock.ID, in.Version, data)
	}
	if !strings.Contains(fail.Failure.Message, "recorded ok, got deadlock (regressed)") || fail.Failure.Type != "regressed" {
		t.Errorf("failure message %q type %q", fail.Failure.Message, fail.Failure.Type)
	}
	// The stuck child's stack, from faulthandler: it blocks in child().
	for _, want := range []string{"proof: ", "stuck stack:", "in child"} {
		if !strings.Contains(fail.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, fail.Failure.Text)
		}
	}
	bad := cs[len(cs)-2]
	if bad.Classname != "00000000deadbeef.meta.yaml" || bad.Name != "load" || bad.Failure != nil || bad.Error == nil ||
		bad.Error.Type != "unreadable" || !strings.HasSuffix(bad.Error.Message, ":3:1: bad") ||
		!strings.Contains(bad.Error.Text, "00000000deadbeef.py: missing") {
		t.Errorf("unreadable entry case %+v %+v", bad, bad.Error)
	}
}

// TestClassify covers each status, including flaky, without running Python.
func TestClassify(t *testing.T) {
	e := &corpus.Entry{ID: "0123456789abcdef"}
	e.Record("3.12.1", "fork", scenario.Deadlock)
	e.Record("3.12.1", "spawn", scenario.OK)
	e.Record("3.11.7", "forkserver", scenario.OK)
	e.Record("3.11.7", "fork", scenario.OK)
	e.Record("3.13.0t", "fork", scenario.OK)
	e.Record("3.14.0", "spawn", scenario.OK) // a newer minor is never compared with
	tests := []struct {
		version, method string
		got             []scenario.Verdict
		status          Status
		reason          string
	}{
		{"3.12.1", "fork", []scenario.Verdict{"deadlock", "deadlock"}, Pass, ""},
		{"3.12.1", "fork", []scenario.Verdict{"ok"}, Fixed, "0123456789abcdef python 3.12.1 fork: recorded deadlock, got ok (fixed?)"},
		{"3.12.1", "spawn", []scenario.Verdict{"deadlock"}, Regressed, "0123456789abcdef python 3.12.1 spawn: recorded ok, got deadlock (regressed)"},
		{"3.12.1", "spawn", []scenario.Verdict{"hang"}, Changed, "0123456789abcdef python 3.12.1 spawn: recorded ok, got hang (changed): timeout"},
		{"3.12.1", "fork", []scenario.Verdict{"deadlock", "ok"}, Flaky, "0123456789abcdef python 3.12.1 fork: flaky: 2 runs gave deadlock, ok, recorded deadlock"},
		{"3.12.7", "fork", []scenario.Verdict{"ok"}, Fixed, "0123456789abcdef python 3.12.7 fork: recorded deadlock (on 3.12.1), got ok (fixed?)"},
		// A minor with nothing recorded is compared with the nearest older one.
		{"3.13.0", "fork", []scenario.Verdict{"deadlock"}, Unchanged, ""},
		{"3.13.0", "fork", []scenario.Verdict{"ok"}, Fixed, "0123456789abcdef python 3.13.0 fork: fixed in 3.13: 3.12.1 recorded deadlock, 3.13.0 got ok"},
		{"3.13.0", "spawn", []scenario.Verdict{"error"}, Broke, "0123456789abcdef python 3.13.0 spawn: broke in 3.13: 3.12.1 recorded ok, 3.13.0 got error: timeout"},
		{"3.13.0", "fork", []scenario.Verdict{"hang"}, Changed, "0123456789abcdef python 3.13.0 fork: changed in 3.13: 3.12.1 recorded deadlock, 3.13.0 got hang: timeout"},
		{"3.13.0", "fork", []scenario.Verdict{"ok", "deadlock"}, Flaky, "0123456789abcdef python 3.13.0 fork: flaky: 2 runs gave ok, deadlock, 3.12.1 recorded deadlock"},
		// The nearest older minor with a verdict for the method: 3.11 for forkserver.
		{"3.13.0", "forkserver", []scenario.Verdict{"deadlock"}, Broke, "0123456789abcdef python 3.13.0 forkserver: broke in 3.13: 3.11.7 recorded ok, 3.13.0 got deadlock"},
		{"3.12.1", "forkserver", []scenario.Verdict{"ok"}, Unchanged, ""},
		// Nothing older: new. A free-threaded build compares with its own kind only.
		{"3.10.4", "fork", []scenario.Verdict{"ok"}, New, "0123456789abcdef python 3.10.4 fork: new: not recorded, got ok (use --update)"},
		{"3.12.1t", "fork", []scenario.Verdict{"ok"}, New, "0123456789abcdef python 3.12.1t fork: new: not recorded, got ok (use --update)"},
		{"3.14.2t", "fork", []scenario.Verdict{"ok"}, Unchanged, ""},
		{"3.14.2t", "fork", []scenario.Verdict{"deadlock"}, Broke, "0123456789abcdef python 3.14.2t fork: broke in 3.14t: 3.13.0t recorded ok, 3.14.2t got deadlock"},
		{"3.12.1", "default", []scenario.Verdict{"ok"}, New, "0123456789abcdef python 3.12.1 default: new: not recorded, got ok (use --update)"},
	}
	for _, tt := range tests {
		c := &Case{Entry: e, Version: tt.version, Method: tt.method}
		c.Recorded, c.RecordedOn = recorded(e, tt.version, tt.method)
		if c.Recorded == "" {
			c.Older, c.ComparedWith = older(e, tt.version, tt.method)
		}
		for _, v := range tt.got {
			c.Results = append(c.Results, run.Result{Verdict: v, Reason: "timeout"})
		}
		c.classify()
		if c.Status != tt.status || c.Reason != tt.reason {
			t.Errorf("%s %s %v: %s %q, want %s %q", tt.version, tt.method, tt.got, c.Status, c.Reason, tt.status, tt.reason)
		}
	}
}

// TestUnreadables: load errors count by entry, not by problem.
func TestUnreadables(t *testing.T) {
	meta := func(id string) error {
		return &corpus.Error{File: filepath.Join("c", id+corpus.MetaExt), Line: 1, Msg: "bad"}
	}
	prog := func(id string) error {
		return &corpus.Error{File: filepath.Join("c", id+corpus.ProgramExt), Msg: "missing"}
	}
	other := filepath.Join("d", "0123456789abcdef") // same ID, another folder
	tests := []struct {
		name string
		errs []error
		want []string // Entry of each, in order
	}{
		{"none", nil, nil},
		{"one file", []error{meta("0123456789abcdef")}, []string{"c/0123456789abcdef"}},
		{"two files of one entry", []error{prog("0123456789abcdef"), meta("0123456789abcdef"), meta("0123456789abcdef")}, []string{"c/0123456789abcdef"}},
		{"two entries", []error{meta("0123456789abcdef"), meta("fedcba9876543210"), prog("0123456789abcdef")}, []string{"c/0123456789abcdef", "c/fedcba9876543210"}},
		{"same ID in two folders", []error{meta("0123456789abcdef"), &corpus.Error{File: other + corpus.MetaExt, Msg: "bad"}}, []string{"c/0123456789abcdef", other}},
		{"a folder error stands alone", []error{errors.New("load corpus: permission denied"), errors.New("load corpus: permission denied")}, []string{"", ""}},
	}
	for _, tt := range tests {
		var got []string
		for _, u := range Unreadables(tt.errs) {
			got = append(got, u.Entry)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("%s: entries %q, want %q", tt.name, got, tt.want)
		}
	}
}
