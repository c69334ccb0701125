package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
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
// an unreadable entry named by file (exit 1, one JUnit error however many
// problems it has) while the others replay and pass; without it, exit 0; bad
// usage or no entries at all, exit 2.
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
	if !strings.Contains(report, `classname="0123456789abcdef.py"`) || strings.Count(report, "<error ") != 1 ||
		strings.Contains(report, "<failure ") || !strings.Contains(report, `failures="0" errors="1"`) {
		t.Errorf("report does not give the corrupt entry one error and nothing else a failure:\n%s", report)
	}
	for _, ext := range []string{".yaml", ".py", ".meta.yaml"} {
		os.Remove(corrupt + ext)
	}
	empty := t.TempDir()
	interrupted := t.TempDir() // a scenario and program without their meta
	for _, ext := range []string{".yaml", ".py"} {
		if err := os.WriteFile(filepath.Join(interrupted, "0123456789abcdef"+ext), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	unreadable := t.TempDir() // one entry whose meta is a folder
	if err := os.Mkdir(filepath.Join(unreadable, "0123456789abcdef.meta.yaml"), 0o755); err != nil {
		t.Fatal(err)
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
		{"empty folder", []string{empty}, exitUsage},
		{"empty folder allowed", []string{empty, "--allow-empty"}, exitOK},
		{"empty folder beside a corpus", []string{empty, dir, "--method", "fork"}, exitOK},
		{"only an interrupted write", []string{interrupted}, exitUsage},
		{"only an unreadable entry", []string{unreadable}, exitMismatch},
		{"only an unreadable entry, empty allowed", []string{unreadable, "--allow-empty"}, exitMismatch},
		{"an empty shard of a corpus", []string{dir, "--shard", emptyShard(t, dir)}, exitOK},
	}
	for _, tt := range tests {
		if code := replayMain(tt.args); code != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, code, tt.want)
		}
	}
}

// emptyShard finds a shard k/n of dir's corpus that holds no entry.
func emptyShard(t *testing.T, dir string) string {
	t.Helper()
	entries, _ := corpus.Load(dir)
	for n := 2; n < 100; n++ {
		for k := 1; k <= n; k++ {
			if len(corpus.Shard(entries, k, n)) == 0 {
				return fmt.Sprintf("%d/%d", k, n)
			}
		}
	}
	t.Fatal("no empty shard")
	return ""
}

// TestReplayOutput runs the binary on a corpus with two good entries and
// three unreadable ones (one with several problems) and checks what a user
// and CI read: the summary counts cases and unreadable entries apart, --json
// gives one "unreadable" object per entry, and an empty folder is named.
func TestReplayOutput(t *testing.T) {
	bin := forkfuzzBinary(t)
	dir, corrupt := replayCorpus(t) // the corrupt entry has several problems
	for id, mk := range map[string]func(string) error{
		"aaaaaaaaaaaaaaaa": func(p string) error { return os.Mkdir(p, 0o755) },
		"bbbbbbbbbbbbbbbb": func(p string) error { return os.WriteFile(p, nil, 0o644) },
	} {
		if err := mk(filepath.Join(dir, id+".meta.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	tests := []struct {
		name             string
		args             []string
		code             int
		stdout, stderr   []string // each must appear
		lastOut, lastErr string   // the last line of each, when not ""
		jsonUnreadable   int      // objects with status "unreadable" on stdout
	}{
		{"text", []string{"replay", dir, "--method", "fork,spawn"}, exitMismatch,
			nil, []string{filepath.Base(corrupt) + ".py: missing", "aaaaaaaaaaaaaaaa.meta.yaml: not a regular file but a directory",
				"bbbbbbbbbbbbbbbb.meta.yaml: empty file: want a mapping whose first line is 'forkfuzz: 1'"},
			"4 passed, 0 failed, 3 unreadable entries", "", 0},
		{"json", []string{"replay", dir, "--method", "fork", "--json"}, exitMismatch,
			[]string{`"id":"aaaaaaaaaaaaaaaa"`, `"status":"pass"`}, nil,
			"", "2 passed, 0 failed, 3 unreadable entries", 3},
		{"empty", []string{"replay", empty}, exitUsage,
			nil, nil, "", "forkfuzz replay: no corpus entries in " + empty + " (--allow-empty accepts that)", 0},
		{"empty allowed", []string{"replay", empty, "--allow-empty"}, exitOK,
			nil, nil, "0 passed, 0 failed", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			out, errOut := stdout.String(), stderr.String()
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if got := lastLine(out); tt.lastOut != "" && got != tt.lastOut {
				t.Errorf("last line of stdout %q, want %q", got, tt.lastOut)
			}
			if got := lastLine(errOut); tt.lastErr != "" && got != tt.lastErr {
				t.Errorf("last line of stderr %q, want %q", got, tt.lastErr)
			}
			if n := strings.Count(out, `"status":"unreadable"`); n != tt.jsonUnreadable {
				t.Errorf("%d unreadable JSON objects, want %d:\n%s", n, tt.jsonUnreadable, out)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestReplaySummaryLine(t *testing.T) {
	tests := []struct {
		passed, failed, fresh, unreadable int
		want                              string
	}{
		{11, 1, 0, 6, "11 passed, 1 failed, 6 unreadable entries"},
		{11, 1, 0, 1, "11 passed, 1 failed, 1 unreadable entry"},
		{4, 0, 0, 0, "4 passed, 0 failed"},
		{0, 0, 0, 0, "0 passed, 0 failed"},
		{15, 0, 6, 0, "15 passed, 0 failed, 6 new (not recorded; --update records them)"},
		{15, 1, 6, 2, "15 passed, 1 failed, 6 new (not recorded; --update records them), 2 unreadable entries"},
	}
	for _, tt := range tests {
		if got := summaryLine(tt.passed, tt.failed, tt.fresh, tt.unreadable); got != tt.want {
			t.Errorf("summaryLine(%d, %d, %d, %d) = %q, want %q", tt.passed, tt.failed, tt.fresh, tt.unreadable, got, tt.want)
		}
	}
}
