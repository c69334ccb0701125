package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// replayCorpus writes the two hand-written entries of harness/corpus/testdata
// with their verdicts on python3, plus a third that lacks its program.
func replayCorpus(t *testing.T) (dir, corrupt string) {
	t.Helper()
	in, err := python.Default(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	fork := map[string]scenario.Verdict{"lock": scenario.Deadlock, "mplock": scenario.OK}
	for _, name := range []string{"lock", "mplock"} {
		s, err := scenario.ParseFile(filepath.Join("..", "..", "harness", "corpus", "testdata", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		prog, err := os.ReadFile(filepath.Join("..", "..", "harness", "corpus", "testdata", name+".py"))
		if err != nil {
			t.Fatal(err)
		}
		e := corpus.NewEntry(s, prog, signature.Signature{Kind: s.Resources[0].Kind, Held: name}, nil)
		e.Record(in.Version, "fork", fork[name])
		e.Record(in.Version, "spawn", scenario.OK)
		if _, err := corpus.Write(dir, e); err != nil {
			t.Fatal(err)
		}
	}
	corrupt = filepath.Join(dir, "0123456789abcdef")
	// No .py: one error, naming the missing file.
	for ext, text := range map[string]string{".yaml": "forkfuzz: 1\n", ".meta.yaml": "forkfuzz: 1\n"} {
		if err := os.WriteFile(corrupt+ext, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, corrupt
}

// TestReplayCommand checks exit codes and the JUnit file: a corrupt entry is
// a failure named by file (exit 1) while the others replay and pass; without
// it, exit 0; bad usage, exit 2.
func TestReplayCommand(t *testing.T) {
	dir, corrupt := replayCorpus(t)
	junit := filepath.Join(t.TempDir(), "report.xml")
	if code := replayMain([]string{dir, "--method", "fork,spawn", "--junit", junit}); code != exitMismatch {
		t.Errorf("replay with a corrupt entry: exit %d, want %d", code, exitMismatch)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	report := string(data)
	if n := strings.Count(report, "<testcase "); n != 2*2+1 {
		t.Errorf("%d testcases, want 5 (2 entries x 2 methods + the corrupt one):\n%s", n, report)
	}
	if !strings.Contains(report, `classname="0123456789abcdef.py"`) || strings.Count(report, "<failure ") != 1 {
		t.Errorf("report does not fail the corrupt entry alone:\n%s", report)
	}
	for _, ext := range []string{".yaml", ".py", ".meta.yaml"} {
		os.Remove(corrupt + ext)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"all match", []string{dir, "--method", "fork,spawn"}, exitOK},
		{"forkserver is new, not a failure", []string{dir, "--method", "forkserver"}, exitOK},
		{"missing folder", []string{filepath.Join(dir, "nope")}, exitUsage},
		{"bad shard", []string{dir, "--shard", "3/2"}, exitUsage},
		{"bad method", []string{dir, "--method", "vfork"}, exitUsage},
	}
	for _, tt := range tests {
		if code := replayMain(tt.args); code != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, code, tt.want)
		}
	}
}
