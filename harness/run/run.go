// Package run owns one execution of a rendered Python program and its
// verdict: it starts the program in a controlled environment and its own
// process group, reads its trace as it arrives, proves a deadlock from /proc
// (package proc) while it runs, takes the stuck process's Python stack, and
// always kills and reaps the whole process tree before it returns.
package run

import (
	"time"

	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/proc"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// DefaultTimeout is used when Execution.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// Execution is one program run under one interpreter and start method.
type Execution struct {
	Name          string        // scenario name, copied to Result.Scenario
	Program       string        // path of the .py program
	Python        string        // interpreter path
	PythonVersion string        // e.g. "3.11.7", copied to the Result
	Method        string        // start method: fork, spawn, forkserver or default (see DefaultMethod)
	Timeout       time.Duration // without proof, the run is a hang after this; 0 means DefaultTimeout
	Env           []string      // extra KEY=VAL, applied last
	Args          []string      // extra program arguments after --start-method METHOD
	// Executor, when not nil, runs Method fork by forking a pre-started
	// interpreter of Python (package executor) rather than starting a fresh
	// one; the watcher, proof and kill work the same on its process group.
	// nil starts every run with a fresh interpreter.
	Executor *executor.Pool
	// Settle, when positive, lets the tree run on after a deadlock is proved
	// until every process of it is asleep (every thread in S, no CPU time
	// added across settleGap), its leader exits, or Settle has passed; only
	// then are the stack taken and the tree killed. The proof comes about a
	// millisecond after a child blocks, often before its parent, still
	// running, has written what it writes once fork() returns (CPython
	// 3.12+'s DeprecationWarning): with Settle that reaches Result.Stderr,
	// and not in the middle of the stack dump. ElapsedMS does not include
	// it. 0 takes the stack and kills the tree at once.
	Settle time.Duration
}

// Result is the verdict of one Execution with its evidence.
type Result struct {
	Scenario      string           `json:"scenario"`
	Python        string           `json:"python"`
	PythonVersion string           `json:"python_version"`
	Method        string           `json:"method"`
	MethodUsed    string           `json:"method_used,omitempty"` // for method default: the one the interpreter chose
	Verdict       scenario.Verdict `json:"verdict"`
	Where         string           `json:"where,omitempty"` // role of the stuck process: parent, child, worker, process
	Proof         string           `json:"proof,omitempty"` // Evidence.String() of the stuck process
	Evidence      *proc.Evidence   `json:"evidence,omitempty"`
	AlsoStuck     []string         `json:"also_stuck,omitempty"` // other processes proved stuck in the same poll: "ROLE: PROOF"
	ElapsedMS     float64          `json:"elapsed_ms"`
	DetectMS      float64          `json:"detect_ms,omitempty"` // proof time minus the stuck pid's last step event
	Stack         string           `json:"stack,omitempty"`     // faulthandler dump of the stuck process (hang: of every process)
	Frames        []Frame          `json:"frames,omitempty"`    // the stuck process's current thread, innermost first
	Stacks        []ProcessStack   `json:"stacks,omitempty"`
	ExitCode      int              `json:"exit_code"` // -1 when killed by a signal or by us
	Signal        string           `json:"signal,omitempty"`
	Reason        string           `json:"reason,omitempty"` // one line: why error/crash/hang
	Stdout        string           `json:"stdout,omitempty"`
	Stderr        string           `json:"stderr,omitempty"` // trace lines removed
	Env           []string         `json:"env,omitempty"`    // PYTHON* and FORKFUZZ* variables set for the run
	Events        []Event          `json:"events,omitempty"`
}

// Frame is one Python frame of a faulthandler dump.
type Frame struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Func string `json:"func"`
}

// ProcessStack is the faulthandler dump of one process of the tree.
type ProcessStack struct {
	Pid     int           `json:"pid"`
	Role    string        `json:"role"`
	Text    string        `json:"text"`
	Threads []ThreadStack `json:"threads,omitempty"`
}

// ThreadStack is one thread of a dump, innermost frame first.
type ThreadStack struct {
	ID      string  `json:"id"`
	Current bool    `json:"current,omitempty"` // the thread that ran the signal handler
	Frames  []Frame `json:"frames"`
}

// Event is one trace line, "@forkfuzz PID ROLE EVENT ARGS...".
type Event struct {
	AtMS  float64 `json:"at_ms"` // receive time since the start of the run
	Pid   int     `json:"pid"`
	Role  string  `json:"role"`
	Event string  `json:"event"`
	Args  string  `json:"args,omitempty"`

	at time.Time
}

// verdictError is the "error" verdict, spelled locally so that this package
// does not depend on the scenario package's name for it.
const verdictError scenario.Verdict = "error"
