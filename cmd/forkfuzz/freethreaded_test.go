package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
)

// TestFreeThreadedKey uses an interpreter that reports itself free-threaded
// (a wrapper around python3 whose probe answer says Py_GIL_DISABLED) and
// checks that fuzz and corpus add record its verdicts under one key,
// VERSION+"t", and that replay looks them up there: every case passes, none
// is new.
func TestFreeThreadedKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz")
	}
	bin := forkfuzzBinary(t)
	real, err := python.Default(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wrap := filepath.Join(t.TempDir(), "python3t")
	script := "#!/bin/sh\ncase \"$*\" in *Py_GIL_DISABLED*) '" + real.Path + "' \"$@\" | sed 's/\"free_threaded\": false/\"free_threaded\": true/'; exit ;; esac\nexec '" + real.Path + "' \"$@\"\n"
	if err := os.WriteFile(wrap, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	key := real.Version + "t"
	added, fuzzed := t.TempDir(), t.TempDir()
	scen, _ := filepath.Abs(filepath.Join("..", "..", "scenarios", "lock-held-by-thread.yaml"))
	for _, args := range [][]string{
		{"corpus", "add", "--python", wrap, "-o", added, scen},
		{"fuzz", "--seed", "1", "--budget", "3", "--python", wrap, "--corpus", fuzzed},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil && args[0] != "fuzz" {
			t.Fatalf("forkfuzz %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, dir := range []string{added, fuzzed} {
		entries, errs := corpus.Load(dir)
		if len(errs) > 0 || len(entries) == 0 {
			t.Fatalf("%s: %d entries, errors %v", dir, len(entries), errs)
		}
		for _, e := range entries {
			if vs := e.Versions(); len(vs) != 1 || vs[0] != key {
				t.Errorf("%s: recorded under %v, want only %s", e.ID, vs, key)
			}
		}
	}
	out, err := exec.Command(bin, "replay", added, fuzzed, "--python", wrap).CombinedOutput()
	if err != nil || strings.Contains(string(out), "NEW ") || !strings.Contains(string(out), "python "+key+" fork") {
		t.Errorf("replay under %s: %v\n%s", key, err, out)
	}
}
