// Package certify owns the root-cause certificate of a fork deadlock: it runs
// one scenario's program for real (every start method on every interpreter
// asked for, plus the os.register_at_fork mitigation and a warnings check),
// collects the evidence into a Certificate, and formats it as Markdown a
// person can trust. Collecting (Prove) and formatting (Markdown) are separate
// so that the text is golden-tested from a fixed Certificate.
package certify

import (
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// MethodReinit names the mitigation run in a Cell: the fork start method with
// every resource re-created in the child by os.register_at_fork.
const MethodReinit = "fork+reinit"

// Certificate is everything a certificate says, collected from real runs.
type Certificate struct {
	Scenario string       // the scenario's name
	Entry    string       // the corpus entry's ID (its file stem) when the scenario is one; "" for a scenario file
	About    string       // the scenario's paragraph for a person
	Source   string       // the scenario file, as given ("" when built in memory)
	Program  string       // the rendered program's file name, as line references show it: NAME.py
	Code     string       // the rendered program (the minimal program, plain python3)
	Hook     string       // the mitigation's os.register_at_fork hook, as rendered into its copy of the program
	Via      scenario.Via // how the parent forks: os.fork, or a multiprocessing Process or Pool
	Runs     int          // runs per cell

	Pythons []string // interpreter versions, in the order of the matrix rows
	Cells   []Cell   // one per Python version and method (scenario.Methods, then MethodReinit)

	// Proved says a fork deadlock is certified: on at least one interpreter
	// the program deadlocked under fork and completed under spawn and
	// forkserver (the differential oracle).
	Proved bool

	Fork     Site     // the parent's fork step
	Holders  []Holder // who held what at the fork, derived from the scenario
	Blocked  *Blocked // the stuck process of the first fork deadlock; nil when none
	Alive    []string // threads alive at the fork, as a pre-fork thread check lists them
	Warnings []Warning
}

// Cell is the verdicts of one Python version under one method.
type Cell struct {
	Python   string
	Method   string             // fork, spawn, forkserver or MethodReinit
	Verdicts []scenario.Verdict // one per run
	Where    string             // the stuck process of a non-ok run: parent, child, worker
	Reason   string             // why a run was an error, crash or hang (the first one)
}

// Site is a place in the rendered program.
type Site struct {
	Line int    // 1-based line in the program; 0 when unknown
	Code string // that line, trimmed
	Step string // the step it belongs to, e.g. "main step 2: fork process"
}

// Holder is one resource held by one thread at the moment of the fork.
type Holder struct {
	Thread   string // thread name; "main" for the forking thread
	Resource string
	Kind     scenario.Kind
	Inside   bool // parked inside one operation on it (else it took it and keeps it)
	Site     Site // the take, or the operation it is parked inside
}

// Blocked is where the stuck process of a fork deadlock waits.
type Blocked struct {
	Python   string   // the interpreter version of this run
	Where    string   // parent, child or worker
	InFork   bool     // the parent, stuck inside its own fork step: no child was created
	Resource string   // the resource of the step it is stuck in ("" when that step names none)
	Site     Site     // the stuck step in the program
	Proof    string   // the /proc evidence, one line
	Frames   []Frame  // the stuck thread's stack, innermost first
	Passed   []string // the steps it completed before the stuck one: what was still usable in it
}

// Frame is one frame of the stuck stack, mapped to the program's steps.
type Frame struct {
	File string // the program's file name, or a standard-library path from lib/pythonX.Y
	Line int
	Func string
	Code string // the program's line, for frames in the program
	Step string // the step that line belongs to, for frames in the program
}

// Warning is whether CPython's own 3.12+ DeprecationWarning about forking a
// multi-threaded process was printed at the fork, on one interpreter.
type Warning struct {
	Python  string
	Plain   int    // how many of the plain fork runs (Certificate.Runs) had it in their stderr
	Default bool   // in the stderr of a fork run with PYTHONWARNINGS=default
	From    string // where the warning was attributed, e.g. "multiprocessing/popen_fork.py:66"
}

// Cell returns the cell of a Python version and method, or nil.
func (c *Certificate) Cell(python, method string) *Cell {
	for i := range c.Cells {
		if c.Cells[i].Python == python && c.Cells[i].Method == method {
			return &c.Cells[i]
		}
	}
	return nil
}

// all reports whether every run of the cell had verdict v (false when none ran).
func (c *Cell) all(v scenario.Verdict) bool {
	if c == nil || len(c.Verdicts) == 0 {
		return false
	}
	for _, got := range c.Verdicts {
		if got != v {
			return false
		}
	}
	return true
}

// any reports whether some run of the cell had verdict v.
func (c *Cell) any(v scenario.Verdict) bool {
	if c == nil {
		return false
	}
	for _, got := range c.Verdicts {
		if got == v {
			return true
		}
	}
	return false
}
