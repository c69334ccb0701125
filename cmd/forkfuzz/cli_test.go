package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Flags go before or after FILE, as users and the README write them.
func TestFlagsAfterFile(t *testing.T) {
	file := filepath.Join("..", "..", "scenarios", "lock-held-by-thread.yaml")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"before", []string{"--reinit", "-o", filepath.Join(dir, "before.py"), file}},
		{"after", []string{file, "-o", filepath.Join(dir, "after.py"), "--reinit"}},
		{"between", []string{"-o", filepath.Join(dir, "between.py"), file, "--reinit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := renderMain(tc.args); code != exitOK {
				t.Fatalf("render %v: exit %d", tc.args, code)
			}
			b, err := os.ReadFile(filepath.Join(dir, tc.name+".py"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte("register_at_fork")) {
				t.Errorf("render %v: --reinit was not applied", tc.args)
			}
		})
	}
	if code := renderMain([]string{file, file}); code != exitUsage {
		t.Errorf("render with two files: exit %d, want %d", code, exitUsage)
	}
}
