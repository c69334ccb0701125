package render

import (
	"fmt"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// place is where a list of steps runs; some ops render differently there.
type place int

const (
	placeThread   place = iota
	placeMain           // the parent's main thread
	placeChild          // a child process (Process or os.fork)
	placePoolTask       // a pool worker's task
)

// stepList writes steps at the current indentation, each preceded by its
// trace line. The fork step is not written here (see mainFunc).
func (g *gen) stepList(who string, steps []scenario.Step, p place) error {
	for i, st := range steps {
		if err := g.step(who, i, st, p); err != nil {
			return fmt.Errorf("%s:%d %s: %w", who, i, st.Op, err)
		}
	}
	return nil
}

// target is the step's TARGET in its trace line.
func target(st scenario.Step) string {
	switch st.Op {
	case scenario.OpTake, scenario.OpRelease, scenario.OpUse:
		return st.Resource
	case scenario.OpPark, scenario.OpSignal, scenario.OpWait:
		return st.Event
	case scenario.OpStart:
		return st.Thread
	case scenario.OpFork:
		if st.Fork != nil {
			return string(st.Fork.Via)
		}
	case scenario.OpExit:
		return "normal"
	}
	return "-"
}

func (g *gen) traceStep(who string, i int, st scenario.Step) {
	g.e.line("_step(%s, %d, %s, %s)", pyStr(who), i, pyStr(string(st.Op)), pyStr(target(st)))
}

func (g *gen) mark(who string, i int, op scenario.Op, line int) {
	g.steps = append(g.steps, StepLine{Who: who, Index: i, Op: op, Line: line})
}

func (g *gen) resource(name string) (*scenario.Resource, error) {
	if r := g.res[name]; r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("unknown resource %q", name)
}

func (g *gen) step(who string, i int, st scenario.Step, p place) error {
	if st.Op == scenario.OpFork {
		return fmt.Errorf("fork outside main")
	}
	g.traceStep(who, i, st)
	line, err := g.op(st, p)
	if err != nil {
		return err
	}
	g.mark(who, i, st.Op, line)
	return nil
}

// op writes one step's operation and returns the line where it can block.
func (g *gen) op(st scenario.Step, p place) (int, error) {
	e := &g.e
	switch st.Op {
	case scenario.OpTake, scenario.OpRelease:
		r, err := g.resource(st.Resource)
		if err != nil {
			return 0, err
		}
		lk := lockExpr(r)
		if lk == "" {
			return 0, fmt.Errorf("resource %s of kind %s cannot be taken", r.Name, r.Kind)
		}
		if st.Op == scenario.OpTake {
			return e.line("%s.acquire()", lk), nil
		}
		return e.line("%s.release()", lk), nil
	case scenario.OpUse:
		r, err := g.resource(st.Resource)
		if err != nil {
			return 0, err
		}
		return g.use(r)
	case scenario.OpPark:
		if err := checkIdent("event", st.Event); err != nil {
			return 0, err
		}
		if st.Resource == "" {
			return e.line("_park(%s, event_%s)", pyStr(st.Event), st.Event), nil
		}
		r, err := g.resource(st.Resource)
		if err != nil {
			return 0, err
		}
		return g.parkIn(r, st.Event)
	case scenario.OpSignal:
		if err := checkIdent("event", st.Event); err != nil {
			return 0, err
		}
		return e.line("event_%s.set()", st.Event), nil
	case scenario.OpWait:
		if err := checkIdent("event", st.Event); err != nil {
			return 0, err
		}
		if r := g.pipes[st.Event]; r != nil && p == placeMain {
			return e.line("_wait_pipe_full(%s, event_%s)", writeFdOf(r), st.Event), nil
		}
		return e.line("event_%s.wait()", st.Event), nil
	case scenario.OpStart:
		if !g.threads[st.Thread] {
			return 0, fmt.Errorf("unknown thread %q", st.Thread)
		}
		return e.line("_start(%s, thread_%s)", pyStr(st.Thread), st.Thread), nil
	case scenario.OpExit:
		if p == placePoolTask {
			// sys.exit in a pool worker would kill the worker, and the pool
			// would wait for its task forever.
			return e.line("return  # exit: a pool worker stays for the next task"), nil
		}
		e.line("_trace(\"done\")")
		return e.line("sys.exit(0)  # exit: normal, which flushes std streams"), nil
	}
	return 0, fmt.Errorf("unknown op %q", st.Op)
}
