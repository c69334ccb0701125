package executor

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/python"
)

// stuckProgram forks a child; both then block forever, in the case's group.
const stuckProgram = `import os, sys, threading
pid = os.fork()
if pid == 0:
    lock = threading.Lock(); lock.acquire(); lock.acquire()  # never returns
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

// TestGoParentDies kills (SIGKILL) a Go process that runs a server with
// stuck cases, and wants the server, the cases and their children gone: the
// server's parent-death signal makes it kill its cases' groups.
func TestGoParentDies(t *testing.T) {
	if os.Getenv("EXECUTOR_HELPER") == "1" {
		helper()
		return
	}
	interpreters(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestGoParentDies$")
	cmd.Env = append(os.Environ(), "EXECUTOR_HELPER=1", "STUCK_DIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
		if pid, err := strconv.Atoi(sc.Text()); err == nil {
			pids = append(pids, pid)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(pids) != 3 {
		t.Fatalf("helper printed pids %v, want server, case and child", pids)
	}
	for _, pid := range pids {
		if !waitGone(pid, 5*time.Second) {
			t.Errorf("pid %d still there after its Go parent died", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// helper runs in the child test process: a server with one stuck case; it
// prints the pids and waits to be killed.
func helper() {
	in, err := python.Default(context.Background())
	if err != nil {
		os.Exit(1)
	}
	prog := filepath.Join(os.Getenv("STUCK_DIR"), "stuck.py")
	os.WriteFile(prog, []byte(stuckProgram), 0o644)
	s, err := Start(context.Background(), in.Path, testEnv())
	if err != nil {
		os.Exit(1)
	}
	c, err := s.Launch(Request{Program: prog, Dir: os.Getenv("STUCK_DIR"), Env: testEnv()})
	if err != nil {
		os.Exit(1)
	}
	line, _ := bufio.NewReader(c.Stdout).ReadString('\n')
	fmt.Printf("%d\n%d\n%s", s.Pid, c.Pid, line)
	fmt.Println("ready")
	select {}
}

// waitGone waits until pid no longer exists (a zombie counts as existing).
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err != nil {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}
