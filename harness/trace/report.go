package trace

// Verdicts of a trace.
const (
	VerdictDeadlock = "deadlock" // proved from /proc: a process of the tree waits forever
	VerdictHazard   = "hazard"   // no hang, but a fork left a held resource to a child: a predicted deadlock
	VerdictOK       = "ok"       // forks (if any) left nothing held behind
	VerdictHang     = "hang"     // the timeout passed without a proof
	VerdictError    = "error"    // the program crashed on a signal, or no Python process was instrumented
)

// Where a deadlock or hazard is.
const (
	WhereParent     = "parent"
	WhereChild      = "child"
	WherePoolWorker = "pool worker"
)

// Report is the result of one trace.
type Report struct {
	Verdict       string `json:"verdict"`
	Where         string `json:"where"`    // parent, child or pool worker
	Resource      string `json:"resource"` // kind: lock, rlock, condition, semaphore, queue, logging-handler, logging-module, buffered-writer, module, sqlite, executor
	Holder        string `json:"holder"`   // the thread that held it and where it took it: "NAME at FILE:LINE"
	Child         string `json:"child"`    // FILE:LINE where the child (or the parent, in its fork) blocks
	PythonVersion string `json:"python_version"`
	// ExitCode is the program's own (128+N for signal N), or 1 when a
	// deadlock was proved, the run hung and was killed, or nothing could be
	// traced (verdict error: never 0).
	ExitCode           int            `json:"exit_code"`
	Certificate        string         `json:"certificate"`
	Forks              []ForkSnapshot `json:"forks"`
	Hazards            []Hazard       `json:"hazards"`
	Proof              string         `json:"proof,omitempty"` // the /proc evidence, one line per process
	Stack              string         `json:"stack,omitempty"` // faulthandler dumps of every process left at the end
	DeprecationWarning bool           `json:"deprecation_warning"`
	ThreadsAtFork      []string       `json:"threads_at_fork"` // names of the threads alive at the fork the verdict is about
}

// ForkSnapshot is one fork as the forking process saw it just before.
type ForkSnapshot struct {
	PID       int    `json:"pid"`
	Seq       int    `json:"seq"`                 // the process's nth fork
	ChildPID  int    `json:"child_pid,omitempty"` // 0: no child reported (the fork never returned)
	Via       string `json:"via"`                 // os.fork, multiprocessing, pool, forkserver
	Thread    string `json:"thread"`              // the forking thread
	Site      string `json:"site"`                // FILE:LINE of the program's code that forked
	Completed bool   `json:"completed"`           // the parent returned from the fork
	// DeprecationWarning: 3.12+'s "is multi-threaded, use of fork()" warning
	// was shown for this fork.
	DeprecationWarning bool           `json:"deprecation_warning"`
	Threads            []ThreadAtFork `json:"threads"`
	Held               []Held         `json:"held"` // held by threads other than the forking one
}

// ThreadAtFork is one thread of the forking process at the fork.
type ThreadAtFork struct {
	Name  string   `json:"name"`
	At    string   `json:"at"`    // FILE:LINE, the innermost frame of the program's code
	Stack []string `json:"stack"` // innermost first
}

// Held is a resource some thread other than the forking one held at a fork.
type Held struct {
	Resource string `json:"resource"` // kind
	What     string `json:"what"`     // e.g. "threading.Lock created at x.py:3"
	Holder   string `json:"holder"`   // thread name
	TakenAt  string `json:"taken_at"` // where the holder took it
	HolderAt string `json:"holder_at"`
}

// Hazard is a resource left held in a child by a thread that does not exist
// there: taking it blocks forever.
type Hazard struct {
	Held
	Where    string `json:"where"` // child or pool worker
	PID      int    `json:"pid"`   // the parent
	ChildPID int    `json:"child_pid"`
	ForkAt   string `json:"fork_at"`
	ChildAt  string `json:"child_at,omitempty"` // where the child took it or tried to
	// Outcome: "not taken" (reachable, but the child did not take it),
	// "blocked" (proved), "blocked, not proved", "timed out", "acquired",
	// "released by the child".
	Outcome string `json:"outcome"`
}
