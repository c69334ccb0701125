package render

import (
	"fmt"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// mainFunc writes _setup, main() and the guard. Unguarded, the steps before
// the fork go to module level instead, outside the guard.
func (g *gen) mainFunc() error {
	e := &g.e
	hasSetup := g.setup()
	e.blank()
	e.blank()
	before, after := g.s.Main[:g.forkAt], g.s.Main[g.forkAt+1:]
	if g.s.Unguarded {
		e.line("# unguarded: the parent's steps before the fork run at module level, outside")
		e.line("# the __main__ guard, so a spawn or forkserver child runs them again while it")
		e.line("# imports this file.")
		e.line("_METHOD = _parse_args()")
		e.line("_CTX = multiprocessing.get_context(_METHOD)")
		if hasSetup {
			e.line("_setup(_CTX)")
		}
		if err := g.stepList("main", before, placeMain); err != nil {
			return err
		}
		e.blank()
		e.blank()
	}
	e.line("def main():")
	e.in()
	if g.s.Unguarded {
		e.line("method, ctx = _METHOD, _CTX")
	} else {
		e.line("method = _parse_args()")
		e.line("ctx = multiprocessing.get_context(method)")
		if hasSetup {
			e.line("_setup(ctx)")
		}
		if err := g.stepList("main", before, placeMain); err != nil {
			return err
		}
	}
	if err := g.forkStep(); err != nil {
		return err
	}
	e.line("# Forked: let every parked thread go on.")
	e.line("_RESUME.set()")
	g.drains()
	for i, st := range after {
		if err := g.step("main", g.forkAt+1+i, st, placeMain); err != nil {
			return fmt.Errorf("main:%d %s: %w", g.forkAt+1+i, st.Op, err)
		}
	}
	e.line("_join_threads()")
	g.waitChild()
	if g.hasStdout() {
		e.line("_restore_stdout()")
	}
	e.line("return _result(exitcode)")
	e.out()
	e.text(`


if __name__ == "__main__":
    try:
        status = main()
    except Exception as error:
        sys.excepthook(type(error), error, error.__traceback__)
        _trace("result", "error", type(error).__name__)
        status = 1
    sys.exit(status)`)
	return nil
}

// setup writes _setup(ctx), what must exist before the first thread starts
// but cannot be made at module level; it reports whether there is any.
func (g *gen) setup() bool {
	locks := g.mpLocks()
	if len(locks) == 0 && !g.hasStdout() {
		return false
	}
	e := &g.e
	e.blank()
	e.blank()
	e.line("def _setup(ctx):")
	e.in()
	e.line(`"""Before any thread starts."""`)
	if len(locks) > 0 {
		e.line("global %s", strings.Join(locks, ", "))
		e.line("# multiprocessing locks come from the start method's context and are")
		e.line("# passed to the child, which shares them (a spawned child could not")
		e.line("# use a lock made for another context).")
		for _, l := range locks {
			e.line("%s = ctx.Lock()", l)
		}
	}
	if g.hasStdout() {
		e.line("_capture_stdout()")
	}
	e.out()
	return true
}

func (g *gen) shared() string {
	var kv []string
	for _, l := range g.mpLocks() {
		kv = append(kv, fmt.Sprintf("%s: %s", pyStr(l), l))
	}
	return "{" + strings.Join(kv, ", ") + "}"
}

// forkStep writes the fork; its StepLine is the line that forks.
func (g *gen) forkStep() error {
	e, f, i := &g.e, g.fork, g.forkAt
	st := g.s.Main[i]
	g.traceStep("main", i, st)
	e.line("shared = %s  # multiprocessing locks the child uses", g.shared())
	via := pyStr(string(f.Via))
	switch f.Via {
	case scenario.ViaProcess:
		e.line("process = ctx.Process(target=child_process, args=(shared,))")
		e.line("_trace(\"fork\", %s, method)", via)
		g.mark("main", i, st.Op, e.line("process.start()"))
	case scenario.ViaPool:
		procs, tasks := f.Processes, f.Tasks
		if procs <= 0 {
			procs = 2
		}
		if tasks <= 0 {
			tasks = 4
		}
		e.line("_trace(\"fork\", %s, method)", via)
		g.mark("main", i, st.Op, e.line("pool = ctx.Pool(%d, initializer=_adopt, initargs=(shared,))", procs))
		e.line("tasks = pool.map_async(pool_task, range(%d))", tasks)
	case scenario.ViaOSFork:
		e.line("_trace(\"fork\", %s, method)", via)
		e.line("if method == \"fork\":")
		e.in()
		g.mark("main", i, st.Op, e.line("pid, process = os.fork(), None"))
		e.line("if pid == 0:")
		e.in()
		e.line("os_fork_child(shared)")
		e.out()
		e.out()
		e.line("else:")
		e.in()
		e.line("# Under spawn and forkserver a user runs the child in a Process instead.")
		e.line("pid, process = 0, ctx.Process(target=child_process, args=(shared,))")
		e.line("process.start()")
		e.out()
	default:
		return fmt.Errorf("main:%d: unknown via %q", i, f.Via)
	}
	return nil
}

// drains lets every write parked on a full pipe complete.
func (g *gen) drains() {
	for _, ev := range g.pipeOrd {
		r := g.pipes[ev]
		if isStdout(r) {
			g.e.line("_drain(_STDOUT_PIPE, len(_pipe_payload(_STDOUT_PIPE)), copy_to=_STDOUT_SAVED)")
		} else {
			g.e.line("_drain(%s, len(_pipe_payload(%s)))", pipeOf(r), pipeOf(r))
		}
	}
}

func (g *gen) waitChild() {
	e := &g.e
	switch g.fork.Via {
	case scenario.ViaPool:
		e.line("tasks.get()  # raises what a task raised")
		e.line("pool.close()")
		e.line("pool.join()")
		e.line("exitcode = 0")
	case scenario.ViaProcess:
		e.line("process.join()")
		e.line("exitcode = process.exitcode")
	case scenario.ViaOSFork:
		e.line("if process is None:")
		e.in()
		e.line("exitcode = _exit_status(os.waitpid(pid, 0)[1])")
		e.out()
		e.line("else:")
		e.in()
		e.line("process.join()")
		e.line("exitcode = process.exitcode")
		e.out()
	}
}
