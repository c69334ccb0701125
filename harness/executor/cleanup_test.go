package executor

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stuckProgram forks a child; both then block forever, in the case's group.
const stuckProgram = `import os, sys, threading
pid = os.fork()
if pid == 0:
    threading.Lock().acquire(); threading.Lock().acquire()  # never returns
else:
    print(pid, flush=True)
    threading.Event().wait()
`

// TestNothingLeftBehind launches cases that never end, each with a forked
// child, stops the server by Close or by cancelling its context, and wants
// the server, every case and every child gone (not even a zombie).
func TestNothingLeftBehind(t *testing.T) {
	py := interpreters(t)[0].Path
	prog := filepath.Join(t.TempDir(), "stuck.py")
	if err := os.WriteFile(prog, []byte(stuckProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := Start(ctx, py, testEnv())
			if err != nil {
				t.Fatal(err)
			}
			pids := []int{s.Pid}
			var cases []*Case
			for range 3 {
				c, err := s.Launch(Request{Program: prog, Dir: t.TempDir(), Env: testEnv()})
				if err != nil {
					t.Fatal(err)
				}
				cases = append(cases, c)
				line, err := bufio.NewReader(c.Stdout).ReadString('\n')
				child, _ := strconv.Atoi(strings.TrimSpace(line))
				if err != nil || child == 0 {
					t.Fatalf("child pid: %q, %v", line, err)
				}
				pids = append(pids, c.Pid, child)
				defer c.Stdout.Close()
				defer c.Stderr.Close()
			}
			if how == "close" {
				s.Close()
			} else {
				cancel()
			}
			for _, pid := range pids {
				if !waitGone(pid, 5*time.Second) {
					t.Errorf("pid %d still there after %s", pid, how)
				}
			}
			for _, c := range cases {
				select {
				case <-c.Done():
				case <-time.After(5 * time.Second):
					t.Errorf("case %d: Wait does not return after %s", c.Pid, how)
				}
			}
			if _, err := s.Launch(Request{Program: prog, Env: testEnv()}); err == nil {
				t.Errorf("Launch after %s: no error", how)
			}
		})
	}
}
