package executor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/python"
)

// BenchmarkTrivial is the floor of one case: a program that only does what
// every rendered program does at import (its imports), started as a fresh
// interpreter and on the executor, one at a time.
func BenchmarkTrivial(b *testing.B) {
	in, err := python.Default(context.Background()) // the real binary, not a pyenv shim
	if err != nil {
		b.Skipf("no python3: %v", err)
	}
	prog := filepath.Join(b.TempDir(), "trivial.py")
	src := "import argparse, faulthandler, multiprocessing, os, signal, sys, threading, traceback\n"
	if err := os.WriteFile(prog, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	env := testEnv()
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(in.Path, prog)
			cmd.Env = env
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("executor", func(b *testing.B) {
		s, err := Start(context.Background(), in.Path, env)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer devnull.Close()
		for b.Loop() {
			c, err := s.Launch(Request{Program: prog, Env: env, Stdout: devnull, Stderr: devnull})
			if err != nil {
				b.Fatal(err)
			}
			if ws, err := c.Wait(); err != nil || ws != 0 {
				b.Fatalf("status %v, %v", ws, err)
			}
		}
	})
}
