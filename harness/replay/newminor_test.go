package replay

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// newestInterpreter is the newest GIL interpreter found: the "new release".
func newestInterpreter(t *testing.T) python.Interpreter {
	t.Helper()
	found, _, err := python.Resolve(context.Background(), []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(found) - 1; i >= 0; i-- {
		if !found[i].FreeThreaded {
			return found[i]
		}
	}
	t.Skip("no GIL interpreter found")
	return python.Interpreter{}
}

// corpusUpTo copies the entries of the project's corpus/ to a
// temporary folder, with every verdict of minor and newer minors removed
// from their metas, as if they had been recorded before minor came out. It
// returns the folder and the version whose verdicts the replay on minor is
// to be compared with: the newest left, the same for every entry.
func corpusUpTo(t *testing.T, minor string) (string, string) {
	t.Helper()
	src := filepath.Join("..", "..", "corpus")
	all, errs := corpus.Load(src)
	if len(errs) > 0 || len(all) == 0 {
		t.Fatalf("load %s: %d entries, errors %v", src, len(all), errs)
	}
	dir := t.TempDir()
	older := ""
	for _, e := range all {
		for _, ext := range []string{corpus.ScenarioExt, corpus.ProgramExt, corpus.MetaExt} {
			copyFile(t, filepath.Join(src, e.ID+ext), filepath.Join(dir, e.ID+ext))
		}
		e.Dir = dir
		for _, v := range e.Versions() {
			if !corpus.VersionLess(python.KeyMinor(v), minor) {
				delete(e.Meta.Verdicts, v)
			}
		}
		vs := e.Versions()
		if len(vs) == 0 {
			t.Skipf("entry %s has nothing recorded before %s", e.ID, minor)
		}
		if newest := vs[len(vs)-1]; older == "" {
			older = newest
		} else if newest != older {
			t.Skipf("the entries' newest versions before %s differ: %s and %s", minor, older, newest)
		}
		if err := corpus.WriteMeta(e); err != nil {
			t.Fatal(err)
		}
	}
	return dir, older
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// replayOn replays every entry of dir on in under fork, spawn and
// forkserver, with fresh interpreters (what is compared is Python's
// behaviour, not the executor's).
func replayOn(t *testing.T, dir string, in python.Interpreter) []*Case {
	t.Helper()
	entries, errs := corpus.Load(dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	opts := Options{Pythons: []python.Interpreter{in}, Methods: []string{scenario.MethodFork, scenario.MethodSpawn, scenario.MethodForkserver},
		Jobs: 2, Timeout: 30 * time.Second}
	cases := Plan(entries, opts)
	start := time.Now()
	if err := Run(context.Background(), cases, opts, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("python %s: %d cases in %v", in.Key(), len(cases), time.Since(start).Round(time.Millisecond))
	return cases
}

// TestNewMinorUnchanged replays entries of the corpus whose metas stop
// before the newest minor found, on that minor: nothing recorded for it, so
// each case is compared with the newest older minor recorded, and passes as
// unchanged, and the summary says what it was compared with.
func TestNewMinorUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	in := newestInterpreter(t)
	dir, older := corpusUpTo(t, in.Minor)
	cases := replayOn(t, dir, in)
	for _, c := range cases {
		if c.Status != Unchanged || c.Failed() || c.ComparedWith != older || c.Recorded != "" {
			t.Errorf("%s %s: status %s, compared with %q, reason %q; want unchanged since %s",
				c.Entry.ID, c.Name(), c.Status, c.ComparedWith, c.Reason, older)
		}
	}
	nms := NewMinors(cases)
	want := in.Minor + " (" + in.Key() + ") had nothing recorded: compared with " + older + ": " +
		strconv.Itoa(len(cases)) + " unchanged, 0 fixed in " + in.Minor + ", 0 broke in " + in.Minor + ", 0 changed"
	if len(nms) != 1 || nms[0].String() != want {
		t.Errorf("new minors %v, want one: %q", nms, want)
	}
}

// TestNewMinorAlteredFails is the same replay with one verdict of the older
// minor altered in a meta: that case, and only that one, fails, its reason
// naming both versions and both minors.
func TestNewMinorAlteredFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	in := newestInterpreter(t)
	dir, older := corpusUpTo(t, in.Minor)
	entries, _ := corpus.Load(dir)
	e := entries[0]
	was := e.Meta.Verdicts[older][scenario.MethodSpawn]
	if was != scenario.OK {
		t.Fatalf("entry %s: spawn on %s recorded %q, want ok", e.ID, older, was)
	}
	e.Meta.Verdicts[older][scenario.MethodSpawn] = scenario.Deadlock
	if err := corpus.WriteMeta(e); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, c := range replayOn(t, dir, in) {
		if c.Failed() {
			failed++
		}
		if c.Entry.ID != e.ID || c.Method != scenario.MethodSpawn {
			continue
		}
		want := e.ID + " python " + in.Key() + " spawn: fixed in " + in.Minor + ": " + older + " recorded deadlock, " + in.Key() + " got ok"
		if c.Status != Fixed || c.Reason != want {
			t.Errorf("altered case: status %s, reason %q; want fixed, %q", c.Status, c.Reason, want)
		}
		if python.KeyMinor(older) == in.Minor || !strings.Contains(c.Reason, python.KeyMinor(older)) {
			t.Errorf("reason %q does not name the older minor %s apart from %s", c.Reason, python.KeyMinor(older), in.Minor)
		}
	}
	if failed != 1 {
		t.Errorf("%d cases failed, want 1", failed)
	}
}

// TestUpdateHoldsUnsure: --update records a new minor's verdicts but not an
// error or a hang, unless allowed; a same-minor difference never.
func TestUpdateHoldsUnsure(t *testing.T) {
	_, entries := testCorpus(t, "3.12.1")
	e := entries[0]
	mk := func(version, method string, got scenario.Verdict, status Status) *Case {
		c := &Case{Entry: e, Version: version, Method: method, Got: got, Status: status}
		c.Recorded, c.RecordedOn = recorded(e, version, method)
		if c.Recorded == "" {
			c.Older, c.ComparedWith = older(e, version, method)
		}
		return c
	}
	cases := []*Case{
		mk("3.13.0", "fork", scenario.OK, Unchanged),
		mk("3.13.0", "spawn", scenario.ErrorVerdict, Broke),
		mk("3.13.0", "forkserver", scenario.Hang, Broke),
		mk("3.12.1", "fork", scenario.Crash, Changed),
	}
	n, held, errs := Update(cases, UpdateOptions{})
	if n != 1 || len(held) != 2 || len(errs) > 0 || !cases[0].Updated || cases[3].Updated {
		t.Errorf("Update: %d recorded, %d held, errors %v; want 1, 2", n, len(held), errs)
	}
	n, held, _ = Update(cases[1:2], UpdateOptions{Allow: []scenario.Verdict{scenario.ErrorVerdict}})
	if n != 1 || len(held) != 0 {
		t.Errorf("Update allowing error: %d recorded, %d held; want 1, 0", n, len(held))
	}
}
