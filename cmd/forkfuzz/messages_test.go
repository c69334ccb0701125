package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/matrix"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// runTool runs the binary in dir and returns its exit code, stdout and
// stderr.
func runTool(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(forkfuzzBinary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestUsageErrors checks that a path that cannot be written, a scenario that
// cannot be read and a merge of a folder into itself are each bad usage (exit
// 2), said in lines that all start "forkfuzz CMD: ", found before anything
// runs (the replay here would take seconds and exit 1), and that nothing is
// created.
func TestUsageErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz")
	}
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	scen := abs(filepath.Join("..", "..", "scenarios", "lock-held-by-thread.yaml"))
	library := abs(filepath.Join("..", "..", "scenarios"))
	tmp := t.TempDir()
	corpusDir, _ := replayCorpus(t) // with its corrupt entry: it would exit 1 after running
	file := filepath.Join(tmp, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(tmp, "missing")
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd  string
		args []string
		want string // in one of the lines
	}{
		{"replay", []string{corpusDir, "--method", "fork", "--junit", filepath.Join(missing, "j.xml")}, "--junit " + missing + "/j.xml: folder " + missing + " does not exist"},
		{"matrix", []string{"-o", filepath.Join(missing, "m.md"), library}, "folder " + missing + " does not exist"},
		{"matrix", []string{"--csv", tmp, library}, "--csv " + tmp + ": is a folder, want a file"},
		{"matrix", []string{"--json", filepath.Join(file, "m.json"), library}, file + " is not a folder"},
		{"shrink", []string{"-o", filepath.Join(missing, "min"), scen}, "folder " + missing + " does not exist"},
		{"bench", []string{"-o", filepath.Join(file, "b.json")}, file + " is not a folder"},
		{"corpus", []string{"add", "-o", filepath.Join(file, "c"), scen}, file + " is not a folder"},
		{"fuzz", []string{"--budget", "1", "--corpus", filepath.Join(file, "c", "d")}, file + " is not a folder"},
		{"corpus", []string{"merge", corpusDir, corpusDir + "/."}, "SRC is DST"},
		{"run", []string{"/nonexistent.yaml"}, "forkfuzz run: /nonexistent.yaml: no such file or directory"},
		{"render", []string{"/nonexistent.yaml"}, "forkfuzz render: /nonexistent.yaml: no such file or directory"},
		{"shrink", []string{"/nonexistent.yaml"}, "forkfuzz shrink: /nonexistent.yaml: no such file or directory"},
		{"prove", []string{"/nonexistent.yaml"}, "forkfuzz prove: /nonexistent.yaml: no such file or directory"},
		{"prove", []string{scen, "-o", filepath.Join(missing, "c.md")}, "forkfuzz prove: -o " + missing + "/c.md: folder " + missing + " does not exist"},
		{"matrix", []string{"--python", "all", empty}, "forkfuzz matrix: " + empty + ": no *.yaml scenario files"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runTool(t, tmp, append([]string{tt.cmd}, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !strings.HasPrefix(line, "forkfuzz "+tt.cmd+": ") {
					t.Errorf("line %q does not start with %q", line, "forkfuzz "+tt.cmd+": ")
				}
				if strings.Count(line, "write ") > 1 {
					t.Errorf("line %q says write twice", line)
				}
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Errorf("%s was created", missing)
			}
		})
	}
}

// TestCorpusAddNothing adds a scenario that is no fork deadlock to a folder
// that does not exist: nothing is written, and the line says so.
func TestCorpusAddNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3")
	}
	scen, _ := filepath.Abs(filepath.Join("..", "..", "scenarios", "threads-holding-nothing.yaml"))
	dst := filepath.Join(t.TempDir(), "new", "corpus")
	code, stdout, stderr := runTool(t, t.TempDir(), "corpus", "add", "-o", dst, scen)
	if code != exitOK {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitOK, stderr)
	}
	if want := "fork deadlocks: 0 of 1 scenario, nothing recorded in " + dst; lastLine(stdout) != want {
		t.Errorf("last line %q, want %q", lastLine(stdout), want)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Errorf("%s was created with nothing in it", dst)
	}
}

// TestHelpTexts checks that each help says what the code does.
func TestHelpTexts(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"corpus     list (ls), merge and add"}},
		{[]string{"fuzz", "--help"}, []string{"Exit code 0 when no new signature was recorded", "1 when one was"}},
		{[]string{"shrink", "--help"}, []string{"Exit code 0 when the minimal scenario was printed or written", "(a flake)", "does not\ndeadlock under fork"}},
		{[]string{"corpus", "--help"}, []string{"corpus ls [--json]", "corpus merge SRC... DST", "corpus add [-o DIR]",
			"-json\n", "Flags: none", "-o DIR\n", "-python value"}},
		{[]string{"corpus", "merge", "--help"}, []string{"corpus merge SRC... DST", "Flags: none"}},
	}
	for _, tt := range tests {
		code, stdout, _ := runTool(t, t.TempDir(), tt.args...)
		if code != exitOK {
			t.Errorf("%v: exit %d", tt.args, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v lacks %q:\n%s", tt.args, w, stdout)
			}
		}
	}
}

// TestReplayNew replays a corpus on a method nothing was recorded for: each
// case is NEW once (not "NEW ... new:"), and the summary line counts them.
func TestReplayNew(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3")
	}
	dir, corrupt := replayCorpus(t)
	for _, ext := range []string{".yaml", ".py", ".meta.yaml"} {
		os.Remove(corrupt + ext)
	}
	code, stdout, stderr := runTool(t, t.TempDir(), "replay", dir, "--method", "forkserver")
	if code != exitOK {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitOK, stderr)
	}
	if want := "0 passed, 0 failed, 2 new (not recorded; --update records them)"; lastLine(stdout) != want {
		t.Errorf("last line %q, want %q", lastLine(stdout), want)
	}
	if strings.Count(stdout, "NEW ") != 2 || strings.Contains(stdout+stderr, "new: ") {
		t.Errorf("want two NEW lines, without 'new: ':\n%s%s", stdout, stderr)
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		one  string
		want string
	}{
		{1, "case", "1 case"},
		{0, "case", "0 cases"},
		{7, "interpreter", "7 interpreters"},
		{1, "entry", "1 entry"},
		{3, "entry", "3 entries"},
	}
	for _, tt := range tests {
		if got := plural(tt.n, tt.one); got != tt.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tt.n, tt.one, got, tt.want)
		}
	}
}

// A pyenv binary found again after its shim was listed as it is not shown
// as skipped; other duplicates are.
func TestNotListed(t *testing.T) {
	found := []python.Interpreter{{Path: "/pyenv/versions/3.11.7/bin/python3"}}
	skipped := []python.Skipped{
		{Path: "/pyenv/versions/3.11.7/bin/python3", Reason: "same as /pyenv/shims/python3"},
		{Path: "/usr/bin/python3.11", Reason: "same as /usr/bin/python3"},
		{Path: "/pyenv/versions/3.7.16/bin/python3", Reason: "Python 3.7.16 is older than 3.8"},
	}
	got := notListed(found, skipped)
	if len(got) != 2 || got[0].Path != "/usr/bin/python3.11" || got[1].Path != "/pyenv/versions/3.7.16/bin/python3" {
		t.Errorf("notListed = %v, want the last two", got)
	}
}

func TestSameFolder(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if err := os.Mkdir(a, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{a, a, true},
		{a, a + "/", true},
		{a, filepath.Join(dir, "x", "..", "a"), true},
		{a, link, true},
		{a, dir, false},
		{a, filepath.Join(dir, "missing"), false},
	}
	for _, tt := range tests {
		if got := sameFolder(tt.a, tt.b); got != tt.want {
			t.Errorf("sameFolder(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// The matrix's write error names the file once: "write X: open ...".
func TestWriteMatrixError(t *testing.T) {
	md := filepath.Join(t.TempDir(), "missing", "m.md")
	err := writeMatrix(&matrix.Matrix{}, md, "", "")
	if err == nil || strings.Count(err.Error(), "write "+md) != 1 {
		t.Errorf("writeMatrix to a missing folder: %v, want one 'write %s'", err, md)
	}
}

func TestVerdictCell(t *testing.T) {
	per := map[string]scenario.Verdict{scenario.MethodFork: scenario.Deadlock, scenario.MethodSpawn: scenario.OK}
	for _, tc := range []struct {
		parent bool
		want   string
	}{{false, "fork:DL spawn:ok"}, {true, "fork:PH spawn:ok"}} {
		if got := verdictCell(per, tc.parent); got != tc.want {
			t.Errorf("verdictCell(parent=%v) = %q, want %q", tc.parent, got, tc.want)
		}
	}
}
