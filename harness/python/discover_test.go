package python

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Discovery on this machine: properties, not this machine's list.
func TestDiscoverHere(t *testing.T) {
	ctx := context.Background()
	found, skipped := Discover(ctx)
	t.Logf("found %d, skipped %d", len(found), len(skipped))
	seen := map[string]bool{}
	for _, in := range found {
		t.Logf("found %s %s %s %s", in.Minor, in.Version, in.Source, in.Path)
		if err := usable(in); err != nil {
			t.Errorf("found %s: %v", in.Path, err)
		}
		if !filepath.IsAbs(in.Path) || strings.Contains(in.Path, "/shims/") {
			t.Errorf("found %s: path not absolute and resolved", in.Path)
		}
		if v, _ := parseVersion(in.Version); minorOf(v, in.FreeThreaded) != in.Minor {
			t.Errorf("found %s: minor %q does not match version %q", in.Path, in.Minor, in.Version)
		}
		if in.Source != SourcePATH && in.Source != SourcePyenv {
			t.Errorf("found %s: source %q", in.Path, in.Source)
		}
		if seen[realPath(in.Path)] {
			t.Errorf("found %s twice", realPath(in.Path))
		}
		seen[realPath(in.Path)] = true
	}
	if !sort.SliceIsSorted(found, func(i, j int) bool { return less(found[i], found[j]) }) {
		t.Error("found is not sorted by version")
	}
	for _, s := range skipped {
		if s.Path == "" || s.Reason == "" {
			t.Errorf("skip without path or reason: %+v", s)
		}
	}

	py3, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	def, err := Default(ctx)
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	if !seen[realPath(def.Path)] {
		t.Errorf("python3 on PATH (%s, %s) is not among those discovered", py3, def.Path)
	}
	all, _, err := Resolve(ctx, []string{"all"})
	if err != nil || len(all) != len(found) {
		t.Errorf("Resolve(all) = %d interpreters, %v; want the %d discovered", len(all), err, len(found))
	}
	for _, in := range found {
		got, _, err := Resolve(ctx, []string{in.Minor})
		if err != nil || len(got) != 1 || got[0].Minor != in.Minor {
			t.Errorf("Resolve(%s) = %+v, %v", in.Minor, got, err)
		}
	}
	_, _, err = Resolve(ctx, []string{"3.99"})
	if err == nil || !strings.HasPrefix(err.Error(), "no Python 3.99 found (found: "+found[0].Minor) {
		t.Errorf("Resolve(3.99) error = %v", err)
	}
	// The same interpreter named twice, by command and by path, is run once.
	got, skips, err := Resolve(ctx, []string{"python3," + def.Path})
	if err != nil || len(got) != 1 || got[0].Source != SourceFlag {
		t.Errorf("Resolve(python3,%s) = %+v, %v; want it once", def.Path, got, err)
	}
	t.Logf("skips: %+v", skips)
}

// Discovery from a fake PATH and pyenv root: names, sources, dedupe, skips.
func TestDiscoverFake(t *testing.T) {
	bin, root := t.TempDir(), t.TempDir()
	py3 := writeFile(t, filepath.Join(bin, "python3"), fakePython("3.13.1", "CPython", false), 0o755)
	if err := os.Symlink(py3, filepath.Join(bin, "python3.13")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(bin, "python3.14t"), fakePython("3.14.0", "CPython", true), 0o755)
	writeFile(t, filepath.Join(bin, "python"), "#!/bin/sh\nexit 3\n", 0o755)
	writeFile(t, filepath.Join(bin, "python3.9"), "", 0o644)
	writeFile(t, filepath.Join(bin, "python3-config"), fakePython("3.13.1", "CPython", false), 0o755)
	pyenv27 := writeFile(t, filepath.Join(root, "versions", "2.7.18", "bin", "python"), fakePython("2.7.18", "CPython", false), 0o755)
	pyenv38 := writeFile(t, filepath.Join(root, "versions", "3.8.18", "bin", "python3"), fakePython("3.8.18", "CPython", false), 0o755)
	t.Setenv("PATH", bin)
	t.Setenv("PYENV_ROOT", root)

	found, skipped := Discover(context.Background())
	var gotFound []string
	for _, in := range found {
		gotFound = append(gotFound, in.Minor+" "+in.Source+" "+in.Path)
	}
	wantFound := []string{
		"3.8 pyenv " + pyenv38,
		"3.13 PATH " + py3,
		"3.14t PATH " + filepath.Join(bin, "python3.14t"),
	}
	if strings.Join(gotFound, "\n") != strings.Join(wantFound, "\n") {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(gotFound, "\n"), strings.Join(wantFound, "\n"))
	}
	wantSkipped := map[string]string{
		filepath.Join(bin, "python3.13"): "same as " + py3,
		filepath.Join(bin, "python3.9"):  "not executable",
		filepath.Join(bin, "python"):     "exit status 3",
		pyenv27:                          "Python 2.7.18 is older than 3.8",
	}
	if len(skipped) != len(wantSkipped) {
		t.Errorf("skipped %+v, want %d", skipped, len(wantSkipped))
	}
	for _, s := range skipped {
		if want, ok := wantSkipped[s.Path]; !ok || s.Reason != want {
			t.Errorf("skipped %s: %q, want %q", s.Path, s.Reason, want)
		}
	}
	def, err := Default(context.Background())
	if err != nil || def.Path != py3 {
		t.Errorf("Default = %+v, %v; want %s", def, err, py3)
	}
	got, _, err := Resolve(context.Background(), []string{"3.14t"})
	if err != nil || len(got) != 1 || !got[0].FreeThreaded {
		t.Errorf("Resolve(3.14t) = %+v, %v", got, err)
	}
	_, _, err = Resolve(context.Background(), []string{"3.12"})
	if err == nil || err.Error() != "no Python 3.12 found (found: 3.8, 3.13, 3.14t)" {
		t.Errorf("Resolve(3.12) error = %v", err)
	}
}
