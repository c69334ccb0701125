package proc

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestBlocked runs small Python programs that print "ready" and then wait in
// one way or another, and polls Blocked on them.
func TestBlocked(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	tests := []struct {
		name    string
		src     string
		blocked bool
		threads int
	}{
		{"self-deadlock", "l = threading.Lock(); l.acquire(); ready(); l.acquire()", true, 1},
		{"two threads stuck", "l = threading.Lock(); l.acquire(); threading.Thread(target=l.acquire).start(); ready(); l.acquire()", true, 2},
		{"shared futex", "import multiprocessing as m; l = m.Lock(); l.acquire(); ready(); l.acquire()", false, 0},
		{"timeout", "l = threading.Lock(); l.acquire(); ready(); l.acquire(timeout=60)", false, 0},
		{"sleep", "ready(); time.sleep(60)", false, 0},
		{"pipe read", "import os; r, w = os.pipe(); ready(); os.read(r, 1)", false, 0},
		// A thread stuck writing to a full pipe that only its own process
		// reads, next to a deadlocked main thread: nobody will ever read.
		{"pipe write, own reader", "import os; r, w = os.pipe(); l = threading.Lock(); l.acquire()\n" +
			"threading.Thread(target=os.write, args=(w, b'x' * 300000)).start(); ready(); l.acquire()", true, 2},
		// The same, but a child holds the read end too: it might read.
		{"pipe write, other reader", "import os; r, w = os.pipe(); r2, w2 = os.pipe()\n" +
			"if os.fork() == 0:\n    os.close(w2); os.read(r2, 1); os._exit(0)\n" +
			"os.close(r2); l = threading.Lock(); l.acquire()\n" +
			"threading.Thread(target=os.write, args=(w, b'x' * 300000)).start(); ready(); l.acquire()", false, 0},

		{"churn", "l = threading.Lock(); l.acquire()\n" +
			"def churn():\n    while True:\n        t = threading.Thread(target=lambda: None); t.start(); t.join()\n" +
			"threading.Thread(target=churn, daemon=True).start(); ready(); l.acquire()", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pre := "import os, sys, threading, time\ndef ready():\n    print('ready', flush=True)\n"
			cmd := exec.Command(py, "-c", pre+tc.src)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cmd.Process.Kill()
				cmd.Wait()
			}()
			if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "ready" {
				t.Fatalf("program said %q", line)
			}
			pid := cmd.Process.Pid
			deadline := time.Now().Add(500 * time.Millisecond)
			for n := 0; time.Now().Before(deadline); n++ {
				ev, ok, err := Blocked(pid)
				if err != nil {
					t.Fatal(err)
				}
				if ok && !tc.blocked {
					t.Fatalf("proved blocked at read %d: %s", n, ev)
				}
				if ok {
					if len(ev.Threads) != tc.threads || !strings.Contains(ev.String(), "private, no timeout") {
						t.Errorf("evidence %s: %d threads, want %d", ev, len(ev.Threads), tc.threads)
					}
					return
				}
				time.Sleep(200 * time.Microsecond)
			}
			if tc.blocked {
				t.Fatal("never proved blocked")
			}
		})
	}
}

// TestBlockedZombie: an exited process that is not reaped yet is not blocked.
func TestBlockedZombie(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	cmd := exec.Command(py, "-S", "-c", "pass")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	for {
		// Wait for the exit without reaping.
		var info [128]byte
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, 1 /* P_PID */, uintptr(pid), uintptr(unsafeAddr(&info)), syscall.WEXITED|0x01000000 /* WNOWAIT */, 0, 0)
		if e != syscall.EINTR {
			break
		}
	}
	if st, err := ReadStat(pid); err != nil || st.State != 'Z' {
		t.Fatalf("stat %+v, %v: want a zombie", st, err)
	}
	if _, ok, err := Blocked(pid); ok || err != nil {
		t.Errorf("zombie: blocked %v, error %v", ok, err)
	}
	if _, ok, err := Blocked(1 << 30); ok || err != nil {
		t.Errorf("no such process: blocked %v, error %v", ok, err)
	}
}

func unsafeAddr(p *[128]byte) unsafe.Pointer { return unsafe.Pointer(p) }
