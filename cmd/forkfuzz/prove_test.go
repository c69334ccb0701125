package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScenarioPath(t *testing.T) {
	for in, want := range map[string]string{
		"corpus/3f2a9c0e1b7d4a55.meta.yaml":  "corpus/3f2a9c0e1b7d4a55.yaml",
		"corpus/3f2a9c0e1b7d4a55.yaml":       "corpus/3f2a9c0e1b7d4a55.yaml",
		"scenarios/lock-held-by-thread.yaml": "scenarios/lock-held-by-thread.yaml",
	} {
		if got := scenarioPath(in); got != want {
			t.Errorf("scenarioPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// A corpus entry is known by its ID-named scenario file next to its meta
// file; a scenario file is not one, nor an ID-named file without a meta.
func TestEntryID(t *testing.T) {
	dir := t.TempDir()
	const id = "3f2a9c0e1b7d4a55"
	for _, f := range []string{id + ".yaml", id + ".meta.yaml", "0123456789abcdef.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for in, want := range map[string]string{
		filepath.Join(dir, id+".yaml"):              id,
		filepath.Join(dir, "0123456789abcdef.yaml"): "",
		"scenarios/lock-held-by-thread.yaml":        "",
		filepath.Join(dir, id+".py"):                "",
	} {
		if got := entryID(in); got != want {
			t.Errorf("entryID(%q) = %q, want %q", in, got, want)
		}
	}
}

// Exit codes of prove and trace, with real Python runs: 0 certified, 1
// nothing to certify (prove) or a deadlock (trace), the program's own code
// otherwise, 2 bad usage.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.md")
	lib := filepath.Join("..", "..", "scenarios")
	for _, tc := range []struct {
		name string
		run  func([]string) int
		args []string
		want int
		text string // the report must contain it
	}{
		{"prove no file", proveMain, nil, exitUsage, ""},
		{"prove missing file", proveMain, []string{"nope.yaml"}, exitUsage, ""},
		{"prove bad runs", proveMain, []string{"--runs", "0", filepath.Join(lib, "lock-held-by-thread.yaml")}, exitUsage, ""},
		{"prove certified", proveMain, []string{"--python", "python3", "-o", out, filepath.Join(lib, "lock-held-by-thread.yaml")}, exitOK, "**Proved.**"},
		{"prove nothing", proveMain, []string{"--python", "python3", "-o", out, filepath.Join(lib, "threads-holding-nothing.yaml")}, exitMismatch, "**Nothing to certify.**"},
		{"trace no program", traceMain, []string{"--json"}, exitUsage, ""},
		{"trace own exit code", traceMain, []string{"-o", out, "--", "python3", "-c", "import sys; sys.exit(3)"}, 3, ""},
		{"trace deadlock", traceMain, []string{"--json", "-o", out, "--", filepath.Join(lib, "trace", "ci_runner.py")}, exitMismatch, `"verdict": "deadlock"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			if got := tc.run(tc.args); got != tc.want {
				t.Fatalf("exit code %d, want %d", got, tc.want)
			}
			if tc.text == "" {
				return
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.text) {
				t.Errorf("report lacks %q:\n%.600s", tc.text, b)
			}
		})
	}
}
