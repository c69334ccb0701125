package render

import (
	"sort"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// header writes the docstring: what the scenario is and how to run it.
// Every piece of scenario text in it goes through docText.
func (g *gen) header() {
	e := &g.e
	e.line("#!/usr/bin/env python3")
	e.line(`"""forkfuzz scenario %s.`, docText(g.s.Name))
	if about := wrap(g.s.About, 76); len(about) > 0 {
		e.blank()
		for _, l := range about {
			e.line("%s", docText(l))
		}
	}
	e.blank()
	if g.opts.Source != "" {
		e.line("Rendered by forkfuzz from %s.", docText(g.opts.Source))
	} else {
		e.line("Rendered by forkfuzz.")
	}
	if g.opts.ReinitAtFork {
		e.line("Mitigation variant: an os.register_at_fork hook re-creates every resource")
		e.line("in the child.")
	}
	e.text(`
Standalone: Python 3.8 to 3.13, standard library only.

    python3 PROGRAM.py [--start-method fork|spawn|forkserver]

Threads park at chosen points (they wait on an Event) and the parent forks
only once every one of them is parked, so the state at the fork is fixed.
Exit status: 0 when everything completed, 1 on an error, 3 when the child was
killed by a signal. A fork deadlock shows as a hang. With FORKFUZZ_TRACE=1
the program reports its progress on stderr, one "@forkfuzz" line per event.
"""`)
}

func (g *gen) imports() {
	mods := []string{"faulthandler", "multiprocessing", "os", "signal", "sys", "threading"}
	add := func(names ...string) { mods = append(mods, names...) }
	if g.has(scenario.Queue) {
		add("queue")
	}
	if g.has(scenario.LoggingHandler) || g.has(scenario.LoggingModule) {
		add("logging")
	}
	if g.has(scenario.SQLite) {
		add("sqlite3")
	}
	if g.has(scenario.Executor) {
		add("concurrent.futures")
	}
	if g.has(scenario.Module) {
		add("atexit", "importlib", "shutil", "tempfile")
	}
	if g.has(scenario.BufferedWriter) {
		add("fcntl", "select")
	}
	sort.Strings(mods)
	g.e.blank()
	for i, m := range mods {
		if i > 0 && m == mods[i-1] {
			continue
		}
		g.e.line("import %s", m)
	}
	g.e.blank()
}

func (g *gen) prelude() {
	g.e.text(preludeCore)
	section := func(block string) {
		g.e.blank()
		g.e.blank()
		g.e.text(block)
	}
	if g.has(scenario.LoggingHandler) || g.has(scenario.SQLite) || g.has(scenario.Module) {
		section(preludeArm)
	}
	if g.has(scenario.LoggingHandler) {
		section(preludeLogging)
	}
	if g.has(scenario.SQLite) {
		section(preludeSQLite)
	}
	if g.has(scenario.Executor) {
		section(preludeExecutor)
	}
	if g.has(scenario.Module) {
		section(preludeModule)
	}
	if g.has(scenario.BufferedWriter) {
		section(preludePipe)
		section(preludeWriteAll)
	}
	if g.hasStdout() {
		section(preludeStdout)
	}
	section(preludeResult)
	section(preludeArgs)
}

func (g *gen) resources() error {
	e := &g.e
	e.blank()
	e.blank()
	e.line("# Resources, made at module level: a spawn or forkserver child, which imports")
	e.line("# this file again, gets fresh ones, as a real program would.")
	for i := range g.s.Resources {
		if err := g.create(&g.s.Resources[i]); err != nil {
			return err
		}
	}
	if len(g.events) > 0 {
		e.blank()
		e.line("# Events: a park sets its event once parked; wait and signal use them too.")
		for _, ev := range g.events {
			e.line("event_%s = threading.Event()", ev)
		}
	}
	return nil
}

// reinitHook writes the mitigation: fresh resources in every forked child.
func (g *gen) reinitHook() {
	e := &g.e
	e.blank()
	e.blank()
	e.line("_KEPT = []  # replaced objects whose cleanup would wait for a lock held at the fork")
	e.blank()
	e.blank()
	e.line("def _fresh_in_child():")
	e.in()
	e.line(`"""The mitigation under test: every resource re-created in the child."""`)
	var globals []string
	for i := range g.s.Resources {
		if n := globalName(&g.s.Resources[i]); n != "" {
			globals = append(globals, n)
		}
	}
	if len(globals) > 0 {
		e.line("global %s", strings.Join(globals, ", "))
	}
	before := e.lines
	for i := range g.s.Resources {
		g.reinit(&g.s.Resources[i])
	}
	if len(globals) == 0 && e.lines == before {
		e.line("pass")
	}
	e.out()
	e.blank()
	e.blank()
	e.line("os.register_at_fork(after_in_child=_fresh_in_child)")
}

func (g *gen) thread(t scenario.Thread) error {
	e := &g.e
	e.blank()
	e.blank()
	e.line("def thread_%s():", t.Name)
	e.in()
	defer e.out()
	if len(t.Steps) == 0 {
		e.line("pass")
	}
	return g.stepList("thread/"+t.Name, t.Steps, placeThread)
}

func (g *gen) child() error {
	e := &g.e
	e.blank()
	e.blank()
	e.line("def child():")
	e.in()
	e.line(`"""The child's steps, in the forked child (or the spawned one)."""`)
	place := placeChild
	if g.fork.Via == scenario.ViaPool {
		place = placePoolTask
	}
	if err := g.stepList("child", g.fork.Child, place); err != nil {
		return err
	}
	e.out()
	switch g.fork.Via {
	case scenario.ViaPool:
		e.text(`


def pool_task(index):
    """One task of the pool: the child's steps, in a worker."""
    global _ROLE
    _ROLE = "worker"
    child()
    _trace("done")
    return index`)
	default:
		e.text(`


def child_process(shared):
    """The child process's entry point."""
    global _ROLE
    _ROLE = "child"
    _adopt(shared)
    child()
    _trace("done")`)
	}
	if g.fork.Via == scenario.ViaOSFork {
		e.text(`


def os_fork_child(shared):
    """The child of os.fork(): it never returns into main()'s code."""
    try:
        child_process(shared)
    except SystemExit:
        raise  # exit: normal, through the interpreter's exit (flushes std streams)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        os._exit(1)
    os._exit(0)`)
	}
	return nil
}
