package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every script orders its threads with Events, never sleeps. Markers name
// lines: HOLD where the holder takes the resource, CHILD where the child
// takes it, FORK where the program forks.
var scripts = map[string]string{
	"lock-child-takes": `import multiprocessing as mp, threading
L = threading.Lock()
held, done = threading.Event(), threading.Event()
def holder():
    with L:  # HOLD
        held.set()
        done.wait()
def child():
    with L:  # CHILD
        pass
if __name__ == "__main__":
    threading.Thread(target=holder, name="holder").start()
    held.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()  # FORK
    done.set()
    p.join()
`,
	"lock-child-skips": `import os, threading
L = threading.Lock()
held, done = threading.Event(), threading.Event()
def holder():
    with L:  # HOLD
        held.set()
        done.wait()
t = threading.Thread(target=holder, name="holder")
t.start()
held.wait()
pid = os.fork()  # FORK
if pid == 0:
    os._exit(0)
done.set()
t.join()
os.waitpid(pid, 0)
`,
	"idle-threads": `import multiprocessing as mp, threading
L = threading.Lock()
ready, done = threading.Barrier(3), threading.Event()
def idle():
    with L:
        pass
    ready.wait()
    done.wait()
def child():
    with L:
        pass
if __name__ == "__main__":
    ts = [threading.Thread(target=idle, name="idle%d" % i) for i in range(2)]
    for t in ts:
        t.start()
    ready.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()  # FORK
    p.join()
    done.set()
`,
	"logging-module": `import logging, os, threading
held, done = threading.Event(), threading.Event()
def holder():
    with logging._lock:  # HOLD
        held.set()
        done.wait()
threading.Thread(target=holder, name="holder", daemon=True).start()
held.wait()
pid = os.fork()  # FORK
if pid == 0:
    os._exit(0)
done.set()
os.waitpid(pid, 0)
`,
	"pool": `import multiprocessing as mp, threading
L = threading.Lock()
held, done = threading.Event(), threading.Event()
def holder():
    with L:  # HOLD
        held.set()
        done.wait()
def f(x):
    with L:  # CHILD
        return x
if __name__ == "__main__":
    threading.Thread(target=holder, name="holder", daemon=True).start()
    held.wait()
    pool = mp.get_context("fork").Pool(2)  # FORK
    done.set()
    print(pool.map(f, range(4)))
`,
	"sqlite": `import multiprocessing as mp, sqlite3, threading
conn = sqlite3.connect(":memory:", check_same_thread=False)
inside, done = threading.Event(), threading.Event()
def slow(x):
    inside.set()
    done.wait()
    return x
conn.create_function("slow", 1, slow)
def query():
    conn.execute("select slow(1)").fetchall()  # HOLD
def child():
    conn.execute("select 1")  # CHILD
if __name__ == "__main__":
    t = threading.Thread(target=query, name="query")
    t.start()
    inside.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()  # FORK
    done.set()
    t.join()
    p.join()
`,
	"module": `import multiprocessing as mp, threading
inside, done = threading.Event(), threading.Event()
def importer():
    import ffmod_slow  # HOLD
def child():
    import ffmod_slow  # CHILD
if __name__ == "__main__":
    t = threading.Thread(target=importer, name="importer")
    t.start()
    inside.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()  # FORK
    done.set()
    t.join()
    p.join()
`,
	// A nested import: the thread holds the lock of ffmod_outer, taken at
	// its own import line, and of ffmod_inner, taken inside ffmod_outer.
	"module-nested": `import multiprocessing as mp, threading
inside, done = threading.Event(), threading.Event()
def importer():
    import ffmod_outer  # HOLD
def child():
    import ffmod_outer  # CHILD
if __name__ == "__main__":
    t = threading.Thread(target=importer, name="importer")
    t.start()
    inside.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()  # FORK
    done.set()
    t.join()
    p.join()
`,
	"executor": `import multiprocessing as mp, threading
from concurrent.futures import ThreadPoolExecutor
inside, done = threading.Event(), threading.Event()
ex = ThreadPoolExecutor(max_workers=1)
def task():  # HOLD
    inside.set()
    done.wait()
def child():
    ex.submit(int).result()  # CHILD
if __name__ == "__main__":
    ex.submit(task)
    inside.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()  # FORK
    done.set()
    p.join()
    ex.shutdown()
`,
	"semaphore": `import multiprocessing as mp, threading
S = threading.Semaphore(1)
held, done = threading.Event(), threading.Event()
def holder():
    with S:  # HOLD
        held.set()
        done.wait()
def child():
    S.acquire()  # CHILD
if __name__ == "__main__":
    threading.Thread(target=holder, name="holder").start()
    held.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()  # FORK
    done.set()
    p.join()
`,
	"logic": `import threading
never = threading.Event()
t = threading.Thread(target=never.wait, name="waiter")
t.start()
t.join()  # CHILD
`,
	// The lock is held at both forks, but an at-fork hook of the program
	// replaces it in the child: nothing there can take the old one.
	"replaced-at-fork": `import multiprocessing as mp, os, threading
class Telemetry:
    def __init__(self):
        self.lock = threading.Lock()
        os.register_at_fork(after_in_child=self.reinit)
    def reinit(self):
        self.lock = threading.Lock()
    def record(self):
        with self.lock:
            pass
T = Telemetry()
held, done = threading.Event(), threading.Event()
def holder():
    with T.lock:
        held.set()
        done.wait()
def child():
    T.record()
if __name__ == "__main__":
    t = threading.Thread(target=holder, name="holder")
    t.start()
    held.wait()
    pid = os.fork()  # FORK
    if pid == 0:
        T.record()
        os._exit(0)
    p = mp.get_context("fork").Process(target=child)
    p.start()
    done.set()
    p.join()
    os.waitpid(pid, 0)
`,
	// logging's module lock taken inside logging.config: the holder is the
	// program's line that called into it.
	"logging-config": `import logging, logging.config, os, threading
inside, done = threading.Event(), threading.Event()
class Slow(logging.Handler):
    def __init__(self):
        super().__init__()
        inside.set()
        done.wait()
def configure():
    logging.config.dictConfig({"version": 1, "handlers": {"h": {"()": Slow}}})  # HOLD
t = threading.Thread(target=configure, name="configurer")
t.start()
inside.wait()
pid = os.fork()  # FORK
if pid == 0:
    os._exit(0)
done.set()
t.join()
os.waitpid(pid, 0)
`,
	// A thread blocked in print() on a full pipe holds sys.stdout's buffered
	// writer, unless PYTHONUNBUFFERED left it without one.
	"stdout-pipe": `import fcntl, os, select, struct, termios, threading
r, w = os.pipe()
os.dup2(w, 1)
os.close(w)
size = fcntl.fcntl(r, 1032)  # F_GETPIPE_SZ
def progress():
    print("x" * (2 * size))  # HOLD
def queued():
    return struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0\0\0\0"))[0]
t = threading.Thread(target=progress, name="progress")
t.start()
while queued() < size:  # the pipe is full once the thread is blocked in its write
    select.select([], [], [], 0.001)
pid = os.fork()  # FORK
if pid == 0:
    print("child", flush=True)  # CHILD
    os._exit(0)
exited = False
while not exited or t.is_alive():
    if select.select([r], [], [], 0.01)[0]:
        os.read(r, 1 << 16)
    exited = exited or os.waitpid(pid, os.WNOHANG)[0] == pid
`,
	"exit3": `import sys
print("plain")
sys.exit(3)
`,
}

// ffmod_slow parks inside its own body until the parent has forked.
const ffmodSlow = `import __main__
__main__.inside.set()
__main__.done.wait()
`

type want struct {
	env                      []string // added to the environment
	verdict, where, resource string
	holder                   string // thread name; " at FILE:HOLD" is appended when hold is set
	hold, child              bool   // Holder names the HOLD line; Child is the CHILD line (or FORK, for a parent)
	exit, hazards            int
}

var cases = []struct {
	name string
	want want
}{
	{"lock-child-takes", want{verdict: "deadlock", where: "child", resource: "lock", holder: "holder", hold: true, child: true, exit: 1, hazards: 1}},
	{"lock-child-skips", want{verdict: "hazard", where: "child", resource: "lock", holder: "holder", hold: true, hazards: 1}},
	{"idle-threads", want{verdict: "ok"}},
	{"logging-module", want{verdict: "deadlock", where: "parent", resource: "logging-module", holder: "holder", hold: true, child: true, exit: 1}},
	{"pool", want{verdict: "deadlock", where: "pool worker", resource: "lock", holder: "holder", hold: true, child: true, exit: 1, hazards: 2}},
	{"sqlite", want{verdict: "deadlock", where: "child", resource: "sqlite", holder: "query", hold: true, child: true, exit: 1, hazards: 1}},
	{"module", want{verdict: "deadlock", where: "child", resource: "module", holder: "importer", hold: true, child: true, exit: 1, hazards: 1}},
	{"module-nested", want{verdict: "deadlock", where: "child", resource: "module", holder: "importer", hold: true, child: true, exit: 1, hazards: 2}},
	{"executor", want{verdict: "deadlock", where: "child", resource: "executor", holder: "ThreadPoolExecutor-0_0", hold: true, child: true, exit: 1, hazards: 1}},
	{"semaphore", want{verdict: "deadlock", where: "child", resource: "semaphore", holder: "holder", hold: true, child: true, exit: 1, hazards: 1}},
	{"logic", want{verdict: "deadlock", where: "parent", child: true, exit: 1}},
	{"replaced-at-fork", want{verdict: "ok"}},
	{"logging-config", want{verdict: "deadlock", where: "parent", resource: "logging-module", holder: "configurer", hold: true, child: true, exit: 1}},
	{"stdout-pipe", want{verdict: "deadlock", where: "child", resource: "buffered-writer", holder: "progress", hold: true, child: true, exit: 1, hazards: 1}},
	{"stdout-pipe", want{env: []string{"PYTHONUNBUFFERED=1"}, verdict: "ok"}},
	{"exit3", want{verdict: "ok", exit: 3}},
}

func TestRun(t *testing.T) {
	for _, py := range pythons(t) {
		t.Run(py.version, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					dir := t.TempDir()
					script := writeScript(t, dir, c.name)
					start := time.Now()
					env := []string{"PYTHONDONTWRITEBYTECODE=1"}
					for _, kv := range os.Environ() {
						if !strings.HasPrefix(kv, "PYTHONUNBUFFERED=") { // only where a case sets it
							env = append(env, kv)
						}
					}
					rep, err := Run(context.Background(), Options{Argv: []string{py.path, script}, Timeout: 30 * time.Second,
						Env: append(env, c.want.env...)})
					if err != nil {
						t.Fatalf("Run: %v", err)
					}
					t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), rep.Certificate)
					check(t, rep, c.want, script, py.version)
					noneLeft(t, dir)
				})
			}
		})
	}
}

func check(t *testing.T, rep *Report, w want, script, version string) {
	t.Helper()
	if rep.Verdict != w.verdict || rep.Where != w.where || rep.Resource != w.resource {
		t.Errorf("verdict, where, resource = %q, %q, %q; want %q, %q, %q\n%s",
			rep.Verdict, rep.Where, rep.Resource, w.verdict, w.where, w.resource, rep.Markdown())
	}
	holder := w.holder
	if w.hold {
		holder += " at " + lineOf(t, script, "HOLD")
	}
	if rep.Holder != holder {
		t.Errorf("holder = %q, want %q", rep.Holder, holder)
	}
	child := ""
	if w.child && w.resource != "" && w.where == WhereParent {
		child = lineOf(t, script, "FORK")
	} else if w.child {
		child = lineOf(t, script, "CHILD")
	}
	if rep.Child != child {
		t.Errorf("child = %q, want %q", rep.Child, child)
	}
	// A child deadlock is named by the attempt the child recorded before it
	// blocked, not only read from its stack.
	if w.verdict == "deadlock" && w.where != WhereParent {
		blocked := "blocked"
		if w.resource == "buffered-writer" { // its lock is not observable: the child's stack says where it blocks
			blocked = "blocked, inferred from the stack"
		}
		if len(rep.Hazards) == 0 || rep.Hazards[0].Outcome != blocked || rep.Hazards[0].ChildAt != child {
			t.Errorf("first hazard %+v, want blocked at %s", rep.Hazards, child)
		}
	}
	if rep.ExitCode != w.exit {
		t.Errorf("exit code = %d, want %d", rep.ExitCode, w.exit)
	}
	if len(rep.Hazards) != w.hazards {
		t.Errorf("%d hazards, want %d: %+v", len(rep.Hazards), w.hazards, rep.Hazards)
	}
	if !strings.HasPrefix(rep.PythonVersion, version) {
		t.Errorf("python version %q, want %s", rep.PythonVersion, version)
	}
	if w.verdict == "deadlock" && (rep.Proof == "" || !strings.Contains(rep.Certificate, "Proof: pid")) {
		t.Errorf("deadlock without a proof: %q", rep.Certificate)
	}
	if w.holder != "" && !strings.Contains(rep.Certificate, "by thread "+w.holder+",") {
		t.Errorf("certificate does not name the holder: %q", rep.Certificate)
	}
	if w.verdict == "ok" && (len(rep.Hazards) != 0 || rep.Certificate != "") {
		t.Errorf("ok with hazards or a certificate: %+v %q", rep.Hazards, rep.Certificate)
	}
}

// TestDeprecationWarning: 3.12+ warns at an os.fork from __main__ with a
// second thread alive; 3.8 to 3.11 never do. Both are recorded as seen.
func TestDeprecationWarning(t *testing.T) {
	for _, py := range pythons(t) {
		t.Run(py.version, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Run(context.Background(), Options{Argv: []string{py.path, writeScript(t, dir, "lock-child-skips")},
				Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var minor int
			fmt.Sscanf(py.version, "3.%d", &minor)
			warns := minor >= 12
			if rep.DeprecationWarning != warns {
				t.Errorf("DeprecationWarning = %v, want %v", rep.DeprecationWarning, warns)
			}
			if got := strings.Join(rep.ThreadsAtFork, ","); got != "holder,MainThread" && got != "MainThread,holder" {
				t.Errorf("threads at the fork = %q, want MainThread and holder", got)
			}
		})
	}
}

// TestChainsSitecustomize: a sitecustomize already on PYTHONPATH still runs.
func TestChainsSitecustomize(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(dir, "ran")
	code := fmt.Sprintf("open(%q, 'w').write('yes')\n", mark)
	if err := os.WriteFile(filepath.Join(other, "sitecustomize.py"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Argv: []string{"python3", writeScript(t, dir, "exit3")},
		Env: append(os.Environ(), "PYTHONPATH="+other)})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(mark); err != nil || string(b) != "yes" {
		t.Errorf("the shadowed sitecustomize did not run: %v", err)
	}
	if rep.Verdict != VerdictOK || rep.ExitCode != 3 {
		t.Errorf("verdict %s exit %d, want ok 3", rep.Verdict, rep.ExitCode)
	}
}

// TestReportForms: the JSON keys are snake_case and the Markdown carries the
// certificate.
func TestReportForms(t *testing.T) {
	dir := t.TempDir()
	rep, err := Run(context.Background(), Options{Argv: []string{"python3", writeScript(t, dir, "lock-child-takes")},
		Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"verdict":"deadlock"`, `"python_version"`, `"exit_code":1`, `"threads_at_fork"`,
		`"deprecation_warning"`, `"forks"`, `"hazards"`, `"taken_at"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
	md := rep.Markdown()
	for _, s := range []string{"# forkfuzz trace: deadlock", rep.Certificate, "## Proof", "## Stacks at the end"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q:\n%s", s, md)
		}
	}
}

func TestRunErrors(t *testing.T) {
	if _, err := Run(context.Background(), Options{}); err == nil {
		t.Error("no argv: no error")
	}
	if _, err := Run(context.Background(), Options{Argv: []string{"/nonexistent/python"}}); err == nil {
		t.Error("missing program: no error")
	}
}

type python struct{ version, path string }

// pythons: python3 on PATH, and pyenv's 3.8 and 3.13 when present.
func pythons(t *testing.T) []python {
	out, err := exec.Command("python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		t.Skipf("no python3: %v", err)
	}
	list := []python{{strings.TrimSpace(string(out)), "python3"}}
	root := os.Getenv("PYENV_ROOT")
	if b, err := exec.Command("pyenv", "root").Output(); err == nil {
		root = strings.TrimSpace(string(b))
	}
	for _, v := range []string{"3.8", "3.13"} {
		if m, _ := filepath.Glob(filepath.Join(root, "versions", v+".*", "bin", "python"+v)); len(m) > 0 && v != list[0].version {
			list = append(list, python{v, m[0]})
		}
	}
	return list
}

func writeScript(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name+".py")
	if err := os.WriteFile(path, []byte(scripts[name]), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"ffmod_slow": ffmodSlow, "ffmod_inner": ffmodSlow, "ffmod_outer": "import ffmod_inner\n"} {
		if err := os.WriteFile(filepath.Join(dir, name+".py"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// lineOf returns "PATH:N" for the line of script marked "# MARK".
func lineOf(t *testing.T, path, mark string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, "# "+mark) {
			return fmt.Sprintf("%s:%d", path, i+1)
		}
	}
	t.Fatalf("%s has no %s line", path, mark)
	return ""
}

// noneLeft fails if any process still runs a file from dir.
func noneLeft(t *testing.T, dir string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), dir) {
			t.Errorf("process left behind: %s: %q", p, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}
