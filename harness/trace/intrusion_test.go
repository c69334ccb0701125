package trace

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pydisc "github.com/forkfuzz/forkfuzz/harness/python"
)

// intrusions are programs that are correct alone; tracing must neither
// change what they do nor report what is not there. Each exits 0 when it
// saw its own behaviour intact, so a traced run's exit code is the check.
var intrusions = []struct {
	name, script string
	verdict      string
}{
	// The fork snapshot must not keep another thread's frames (and their
	// locals) alive: with the collector off, a local dies with its frame.
	{"frames-freed", `import gc, os, sys, threading, weakref
gc.disable()
class Buf(object):
    pass
ready, go = threading.Event(), threading.Event()
refs = []
def work():
    b = Buf()
    refs.append(weakref.ref(b))
    ready.set()
    go.wait()
t = threading.Thread(target=work)
t.start()
ready.wait()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
go.set()
t.join()
if refs[0]() is not None:
    sys.exit("the thread's frame outlived it")
`, VerdictOK},
	// A thread stands on a write line when the parent forks: a hazard only
	// when what it writes to has a buffered writer's lock.
	{"write-stringio", writeAtFork("io.StringIO()", `"x"`), VerdictOK},
	{"write-bytesio", writeAtFork("io.BytesIO()", `b"x"`), VerdictOK},
	{"write-buffered", writeAtFork("open(os.devnull, 'wb')", `b"x"`), VerdictHazard},
}

// writeAtFork is a program whose thread is inside a call on a line that
// writes to the object made by expr when the parent forks; the call blocks
// in C (a raw lock), so that line is the thread's innermost frame.
func writeAtFork(expr, data string) string {
	return `import _thread, io, os, threading
out = ` + expr + `
gate = _thread.allocate_lock()
gate.acquire()
def work():
    out.write(gate.acquire() and ` + data + `)
t = threading.Thread(target=work)
t.start()
while not open("/proc/self/task/%d/syscall" % t.native_id).read().startswith("202 "):
    pass  # until the thread waits in its futex (202), inside the write line
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
gate.release()
t.join()
`
}

// TestIntrusion runs each program plain and traced on every interpreter
// found: both must exit 0 with the expected verdict.
func TestIntrusion(t *testing.T) {
	for _, py := range everyPython(t) {
		t.Run(py.Version, func(t *testing.T) {
			for _, c := range intrusions {
				t.Run(c.name, func(t *testing.T) {
					script := filepath.Join(t.TempDir(), c.name+".py")
					if err := os.WriteFile(script, []byte(c.script), 0o644); err != nil {
						t.Fatal(err)
					}
					var stderr strings.Builder
					rep, err := Run(context.Background(), Options{Argv: []string{py.Path, script}, Timeout: 60 * time.Second,
						Stderr: &stderr})
					if err != nil {
						t.Fatal(err)
					}
					if rep.Verdict != c.verdict || rep.ExitCode != 0 {
						t.Errorf("traced: verdict %s, exit %d; want %s, 0\n%s\n%s", rep.Verdict, rep.ExitCode, c.verdict,
							stderr.String(), rep.Certificate)
					}
				})
			}
		})
	}
}

// everyPython lists every interpreter found, one per version.
func everyPython(t *testing.T) []pydisc.Interpreter {
	t.Helper()
	found, _ := pydisc.Discover(context.Background())
	seen := map[string]bool{}
	var out []pydisc.Interpreter
	for _, in := range found {
		if !seen[in.Version] {
			seen[in.Version] = true
			out = append(out, in)
		}
	}
	if len(out) == 0 {
		t.Skip("no Python found")
	}
	return out
}

// TestUntracedFailsLoudly: isolated mode (-I) and -E ignore the injected
// PYTHONPATH, so nothing is traced: the verdict is error and the exit code
// is never 0, even though the program itself exits 0.
func TestUntracedFailsLoudly(t *testing.T) {
	script := filepath.Join(t.TempDir(), "fine.py")
	if err := os.WriteFile(script, []byte("print('fine')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, py := range everyPython(t) {
		for _, flag := range []string{"-I", "-E"} {
			t.Run(py.Version+flag, func(t *testing.T) {
				rep, err := Run(context.Background(), Options{Argv: []string{py.Path, flag, script}, Timeout: 60 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Verdict != VerdictError || rep.ExitCode == 0 {
					t.Errorf("verdict %s, exit %d; want error, not 0", rep.Verdict, rep.ExitCode)
				}
			})
		}
	}
}

// TestOwnSIGUSR1: a program that handles SIGUSR1 itself (and forks with the
// handler) never receives forkfuzz's stack request as a command, and the
// report still has the stuck child's stack.
func TestOwnSIGUSR1(t *testing.T) {
	const src = `import multiprocessing as mp, os, signal, threading
signal.signal(signal.SIGUSR1, lambda *a: os.write(2, b"program got SIGUSR1\n"))
L = threading.Lock()
held, done = threading.Event(), threading.Event()
def holder():
    with L:
        held.set()
        done.wait()
def stuck_child():
    with L:
        pass
if __name__ == "__main__":
    threading.Thread(target=holder, daemon=True).start()
    held.wait()
    p = mp.get_context("fork").Process(target=stuck_child)
    p.start()
    p.join()
`
	script := filepath.Join(t.TempDir(), "own_usr1.py")
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, py := range everyPython(t) {
		t.Run(py.Version, func(t *testing.T) {
			var stderr strings.Builder
			rep, err := Run(context.Background(), Options{Argv: []string{py.Path, script}, Timeout: 60 * time.Second,
				Stderr: &stderr})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != VerdictDeadlock {
				t.Errorf("verdict %s, want deadlock", rep.Verdict)
			}
			if strings.Contains(stderr.String(), "program got SIGUSR1") {
				t.Errorf("the program's own SIGUSR1 handler ran:\n%s", stderr.String())
			}
			if !strings.Contains(rep.Stack, "stuck_child") {
				t.Errorf("no stack of the stuck child:\n%s", rep.Stack)
			}
		})
	}
}
