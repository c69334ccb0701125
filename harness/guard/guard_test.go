package guard

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledWithForkfuzz: a helper process starts a group of sleepers,
// lists it (and, in the second case, takes it off again), prints the group
// id and is then killed with SIGKILL, as forkfuzz might be. A listed group
// must die with it; a removed one must not be touched.
func TestKilledWithForkfuzz(t *testing.T) {
	if os.Getenv("GUARD_HELPER") != "" {
		helper()
		return
	}
	for _, tc := range []struct {
		mode     string
		wantDead bool
	}{{"add", true}, {"add-remove", false}} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWithForkfuzz$")
			cmd.Env = append(os.Environ(), "GUARD_HELPER="+tc.mode)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			pgid, perr := strconv.Atoi(line[:max(len(line)-1, 0)])
			if err != nil || perr != nil || pgid <= 1 {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper said %q: %v %v", line, err, perr)
			}
			defer syscall.Kill(-pgid, syscall.SIGKILL)
			cmd.Process.Kill()
			cmd.Wait()
			// A kill takes milliseconds; 1 s is plenty to see one not happen.
			wait := map[bool]time.Duration{true: 5 * time.Second, false: time.Second}[tc.wantDead]
			dead := false
			for deadline := time.Now().Add(wait); time.Now().Before(deadline) && !dead; time.Sleep(10 * time.Millisecond) {
				// The leader is the helper's child, now init's (or a
				// subreaper's): a zombie until reaped, so look for live ones.
				dead = !groupAlive(pgid)
			}
			if dead != tc.wantDead {
				t.Errorf("group %d dead: %v, want %v", pgid, dead, tc.wantDead)
			}
		})
	}
}

// helper starts a group of three sleepers, guards it, says its id, and
// waits to be killed.
func helper() {
	sleepers := exec.Command("/bin/sh", "-c", "sleep 600 & sleep 600 & wait")
	sleepers.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sleepers.Start(); err != nil {
		os.Exit(3)
	}
	pgid := sleepers.Process.Pid
	Add(pgid)
	if os.Getenv("GUARD_HELPER") == "add-remove" {
		Remove(pgid)
	}
	time.Sleep(100 * time.Millisecond) // both sleepers started
	os.Stdout.WriteString(strconv.Itoa(pgid) + "\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// groupAlive reports whether a process of group pgid is alive (not a zombie).
func groupAlive(pgid int) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp; comm has no spaces for sh and sleep,
		// and another process's that has only fails to scan.
		var pid, ppid, pg int
		var comm, state string
		if n, _ := fmt.Sscan(string(data), &pid, &comm, &state, &ppid, &pg); n == 5 && pg == pgid && state != "Z" {
			return true
		}
	}
	return false
}

// TestTempDirRemovedWithForkfuzz: a helper makes two private directories
// (one with a space in its name), cleans up the second itself, says both,
// and is killed with SIGKILL. The guard removes the first; the second stays
// gone, and a directory the helper never listed is not touched.
func TestTempDirRemovedWithForkfuzz(t *testing.T) {
	if os.Getenv("GUARD_DIR_HELPER") != "" {
		dirHelper()
		return
	}
	tmp := filepath.Join(t.TempDir(), "tmp with space")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	bystander := filepath.Join(tmp, "not-ours")
	if err := os.Mkdir(bystander, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTempDirRemovedWithForkfuzz$")
	cmd.Env = append(os.Environ(), "GUARD_DIR_HELPER=1", "TMPDIR="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	kept, err1 := r.ReadString('\n')
	cleaned, err2 := r.ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	if err1 != nil || err2 != nil {
		t.Fatalf("helper said %q %q: %v %v", kept, cleaned, err1, err2)
	}
	kept, cleaned = strings.TrimSuffix(kept, "\n"), strings.TrimSuffix(cleaned, "\n")
	gone := func(p string) bool { _, err := os.Stat(p); return os.IsNotExist(err) }
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !gone(kept); time.Sleep(10 * time.Millisecond) {
	}
	if !gone(kept) {
		t.Errorf("%s survived forkfuzz's SIGKILL", kept)
	}
	if !gone(cleaned) {
		t.Errorf("%s was not cleaned up", cleaned)
	}
	if gone(bystander) {
		t.Errorf("%s, never listed, was removed", bystander)
	}
}

func dirHelper() {
	kept, _, err := TempDir("forkfuzz-kept ")
	if err != nil {
		os.Exit(3)
	}
	os.WriteFile(filepath.Join(kept, "scratch.py"), []byte("pass\n"), 0o644)
	cleaned, cleanup, err := TempDir("forkfuzz-cleaned-")
	if err != nil {
		os.Exit(3)
	}
	cleanup()
	os.Stdout.WriteString(kept + "\n" + cleaned + "\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}
