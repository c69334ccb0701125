package render

import (
	"fmt"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// The Python side of each resource kind (FORMAT.md, "Resources"): the
// variable it lives in, how it is created, taken, used, parked inside, and
// re-created in a child by the ReinitAtFork mitigation.

// varName is the Python variable holding r. The kind prefix keeps every
// scenario name clear of Python keywords and of this program's own names,
// which all start with "_" or are fixed words without an underscore prefix
// of this form.
func varName(r *scenario.Resource) string {
	switch r.Kind {
	case scenario.Lock:
		return "lock_" + r.Name
	case scenario.RLock:
		return "rlock_" + r.Name
	case scenario.Condition:
		return "cond_" + r.Name
	case scenario.Semaphore:
		return "sem_" + r.Name
	case scenario.Queue:
		return "queue_" + r.Name
	case scenario.LoggingHandler:
		return "log_" + r.Name
	case scenario.LoggingModule:
		return "logging._lock"
	case scenario.BufferedWriter:
		if isStdout(r) {
			return "sys.stdout"
		}
		return "writer_" + r.Name
	case scenario.Module:
		return "ffmod_" + r.Name
	case scenario.SQLite:
		return "conn_" + r.Name
	case scenario.Executor:
		return "executor_" + r.Name
	case scenario.MPLock:
		return "mplock_" + r.Name
	}
	return ""
}

func isStdout(r *scenario.Resource) bool {
	return r.Kind == scenario.BufferedWriter && r.Target == scenario.TargetStdout
}

// pipeOf is the read end of the pipe a buffered writer writes to.
func pipeOf(r *scenario.Resource) string {
	if isStdout(r) {
		return "_STDOUT_PIPE"
	}
	return "pipe_" + r.Name
}

// writeFdOf is the write end of that pipe.
func writeFdOf(r *scenario.Resource) string {
	if isStdout(r) {
		return "1"
	}
	return varName(r) + ".fileno()"
}

func workers(r *scenario.Resource) int {
	if r.Workers <= 0 {
		return 1
	}
	return r.Workers
}

// fresh is the expression that makes a fresh lock-like r, at module level
// and again in a child re-initialised at fork ("" for the other kinds).
func fresh(r *scenario.Resource) string {
	switch r.Kind {
	case scenario.Lock:
		return "threading.Lock()"
	case scenario.RLock:
		return "threading.RLock()"
	case scenario.Condition:
		return "threading.Condition()"
	case scenario.Semaphore:
		return "threading.Semaphore(1)"
	case scenario.Queue:
		return "queue.Queue()"
	}
	return ""
}

// create writes the module-level line that makes r.
func (g *gen) create(r *scenario.Resource) error {
	e, v := &g.e, varName(r)
	if f := fresh(r); f != "" {
		e.line("%s = %s", v, f)
		return nil
	}
	switch r.Kind {
	case scenario.LoggingHandler:
		e.line("%s = _logger(%s)", v, pyStr(r.Name))
	case scenario.LoggingModule:
		e.line("# %s is logging's module lock, logging._lock.", r.Name)
	case scenario.BufferedWriter:
		if isStdout(r) {
			e.line("# %s is sys.stdout; main() points fd 1 at a pipe before any thread starts.", r.Name)
		} else {
			e.line("%s, %s = _pipe_writer()", pipeOf(r), v)
		}
	case scenario.Module:
		e.line("_write_module(%s)", pyStr(v))
	case scenario.SQLite:
		e.line("%s = _connect(%s)", v, pyStr(r.Name))
	case scenario.Executor:
		e.line("%s = concurrent.futures.ThreadPoolExecutor(max_workers=%d)", v, workers(r))
	case scenario.MPLock:
		e.line("%s = None  # made by main() from the start method's context, passed to the child", v)
	default:
		return fmt.Errorf("resource %s: unknown kind %q", r.Name, r.Kind)
	}
	return nil
}

// lockExpr is what take and release act on, "" when the kind cannot be taken.
func lockExpr(r *scenario.Resource) string {
	switch r.Kind {
	case scenario.Lock, scenario.RLock, scenario.Condition, scenario.Semaphore, scenario.MPLock:
		return varName(r)
	case scenario.Queue:
		return varName(r) + ".mutex"
	case scenario.LoggingModule:
		return "logging._lock"
	}
	return ""
}

// use writes one complete operation on r and returns the line where it can block.
func (g *gen) use(r *scenario.Resource) (int, error) {
	e, v := &g.e, varName(r)
	switch r.Kind {
	case scenario.Lock, scenario.RLock:
		at := e.line("with %s:", v)
		e.in()
		e.line("pass")
		e.out()
		return at, nil
	case scenario.Condition:
		at := e.line("with %s:", v)
		e.in()
		e.line("%s.notify_all()", v)
		e.out()
		return at, nil
	case scenario.Semaphore, scenario.MPLock:
		at := e.line("%s.acquire()", v)
		e.line("%s.release()", v)
		return at, nil
	case scenario.Queue:
		at := e.line("%s.put(1)", v)
		e.line("%s.get()", v)
		return at, nil
	case scenario.LoggingHandler:
		return e.line("%s.warning(%s)", v, pyStr("forkfuzz: use of "+r.Name)), nil
	case scenario.LoggingModule:
		// getLogger always takes the module lock, even for a known name.
		return e.line("logging.getLogger(%s)", pyStr("forkfuzz")), nil
	case scenario.BufferedWriter:
		if isStdout(r) {
			// A small text write only fills the text layer; flush takes the buffer's lock.
			e.line("sys.stdout.write(%s)", pyStr("forkfuzz: use of "+r.Name+"\n"))
			return e.line("sys.stdout.flush()"), nil
		}
		at := e.line("%s.write(%s)", v, "b"+pyStr("use\n"))
		e.line("%s.flush()", v)
		return at, nil
	case scenario.Module:
		return e.line("import %s", v), nil
	case scenario.SQLite:
		return e.line("%s.execute(%s).fetchall()", v, pyStr("select 1")), nil
	case scenario.Executor:
		return e.line("%s.submit(_noop).result()", v), nil
	}
	return 0, fmt.Errorf("resource %s: cannot use kind %q", r.Name, r.Kind)
}

// parkIn writes a park inside one operation on r and returns the line of
// that operation.
func (g *gen) parkIn(r *scenario.Resource, event string) (int, error) {
	e, v := &g.e, varName(r)
	ev := pyStr(event)
	park := fmt.Sprintf("_park(%s, event_%s)", ev, event)
	switch r.Kind {
	case scenario.Lock, scenario.RLock, scenario.Condition, scenario.Semaphore, scenario.MPLock,
		scenario.Queue, scenario.LoggingModule:
		at := e.line("with %s:", lockExpr(r))
		e.in()
		e.line("%s", park)
		e.out()
		return at, nil
	case scenario.LoggingHandler:
		e.line("_arm(%s, %s, event_%s)  # parks in the stream's write(), inside emit()", pyStr(r.Name), ev, event)
		return e.line("%s.warning(%s)", v, pyStr("forkfuzz: park in "+r.Name)), nil
	case scenario.SQLite:
		e.line("_arm(%s, %s, event_%s)  # parks in ff_park(), called by the running query", pyStr(r.Name), ev, event)
		return e.line("%s.execute(%s).fetchall()", v, pyStr("select ff_park()")), nil
	case scenario.Module:
		e.line("_arm(%s, %s, event_%s)  # parks in the module's body", pyStr(v), ev, event)
		e.line("sys.modules.pop(%s, None)  # so that this import runs the body", pyStr(v))
		return e.line("import %s", v), nil
	case scenario.Executor:
		e.line("submitted = threading.Event()")
		line := e.line("future = %s.submit(_park_after, submitted, %s, event_%s)  # parks on the executor's worker", v, ev, event)
		e.line("submitted.set()")
		e.line("future.result()")
		return line, nil
	case scenario.BufferedWriter:
		// The park is the write itself: it blocks in write(2) on the full
		// pipe, holding the buffer's lock, until the parent drains the pipe
		// after the fork. The parent sees it parked once the pipe is full.
		e.line("_trace(\"parked\", %s)", ev)
		if isStdout(r) {
			return e.line("sys.stdout.write(_pipe_payload(_STDOUT_PIPE).decode())"), nil
		}
		return e.line("%s.write(_pipe_payload(%s))", v, pipeOf(r)), nil
	}
	return 0, fmt.Errorf("resource %s: cannot park in kind %q", r.Name, r.Kind)
}

// reinit writes the after_in_child lines that give the child a fresh r, or a
// comment saying why there is nothing to do.
func (g *gen) reinit(r *scenario.Resource) {
	e, v := &g.e, varName(r)
	if f := fresh(r); f != "" {
		e.line("%s = %s", v, f)
		return
	}
	switch r.Kind {
	case scenario.LoggingHandler:
		e.line("%s.handlers[0].createLock()", v)
	case scenario.LoggingModule:
		e.line("# %s: logging re-creates its module lock in the child itself; a parent", r.Name)
		e.line("# whose other thread holds it blocks in logging's own before-fork hook,")
		e.line("# before this hook could run.")
	case scenario.BufferedWriter:
		// The old writer stays referenced: freeing it would flush, and
		// flushing waits for the lock that no thread of the child holds.
		if isStdout(r) {
			e.line("_KEPT.append(sys.stdout)")
			e.line("sys.stdout = open(1, \"w\", closefd=False)")
		} else {
			e.line("_KEPT.append(%s)", v)
			e.line("%s = open(%s.fileno(), \"wb\", closefd=False)", v, v)
		}
	case scenario.Module:
		// No public API makes a fresh importlib lock: drop the half-imported
		// module and importlib's private lock for it, so the child's import
		// runs the body again from scratch.
		e.line("sys.modules.pop(%s, None)", pyStr(v))
		e.line("importlib._bootstrap._module_locks.pop(%s, None)", pyStr(v))
	case scenario.SQLite:
		e.line("_KEPT.append(%s)  # closing it would wait for its mutex", v)
		e.line("%s = _connect(%s)", v, pyStr(r.Name))
	case scenario.Executor:
		e.line("%s = concurrent.futures.ThreadPoolExecutor(max_workers=%d)", v, workers(r))
	case scenario.MPLock:
		e.line("# %s is shared between the processes on purpose; nothing to re-create.", r.Name)
	}
}

// globalName is the name a function must declare global to rebind r, "" if none.
func globalName(r *scenario.Resource) string {
	switch r.Kind {
	case scenario.LoggingModule, scenario.Module, scenario.LoggingHandler:
		return ""
	case scenario.BufferedWriter:
		if isStdout(r) {
			return ""
		}
	}
	return varName(r)
}
