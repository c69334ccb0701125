// Package scenario owns the Scenario model: the resources, threads and steps of
// one fork experiment, its YAML form (format version 1), and the rules that make
// a scenario valid. Every other stage (render, run, fuzz, shrink, corpus) takes a
// *Scenario that Validate accepted; none of them re-checks what is checked here.
//
// The model is a plain tree of structs. A Scenario describes what the parent
// process does before and after it forks, what each of its threads does (and
// where it parks at the moment of the fork), and what the child does.
package scenario

// FormatVersion is the version of the YAML form this package reads and writes.
const FormatVersion = 1

// Scenario is one fork experiment.
type Scenario struct {
	Name  string // identifier-like name, also the rendered program's file stem
	About string // one paragraph for a person; free text

	Resources []Resource
	Threads   []Thread
	// Main lists the parent's main-thread steps. Exactly one is a Fork step.
	Main []Step

	// Unguarded renders the parent's steps before the fork at module level
	// instead of under `if __name__ == "__main__":`. A spawn or forkserver
	// child then re-runs them while importing the main module: the classic
	// logic deadlock that hangs under every start method.
	Unguarded bool

	Expect []Expect

	// File is where the scenario was read from ("" when built in memory).
	File string
	Pos  Pos
}

// Kind is a kind of resource that a thread can hold at the fork.
type Kind string

const (
	Lock           Kind = "lock"            // threading.Lock
	RLock          Kind = "rlock"           // threading.RLock
	Condition      Kind = "condition"       // threading.Condition (its lock)
	Semaphore      Kind = "semaphore"       // threading.Semaphore(1)
	Queue          Kind = "queue"           // queue.Queue (its mutex)
	LoggingHandler Kind = "logging-handler" // a logging.StreamHandler's lock
	LoggingModule  Kind = "logging-module"  // logging's module-level lock (logging._lock)
	BufferedWriter Kind = "buffered-writer" // an io.BufferedWriter's lock; Target says on what
	Module         Kind = "module"          // a module being imported (importlib's per-module lock)
	SQLite         Kind = "sqlite"          // a shared sqlite3 connection (SQLite's connection mutex)
	Executor       Kind = "executor"        // concurrent.futures.ThreadPoolExecutor
	MPLock         Kind = "mp-lock"         // multiprocessing.Lock: shared between processes (negative control)
)

// Kinds lists every Kind, in the order documentation and matrices show them.
var Kinds = []Kind{Lock, RLock, Condition, Semaphore, Queue, LoggingHandler, LoggingModule,
	BufferedWriter, Module, SQLite, Executor, MPLock}

// Buffered-writer targets.
const (
	TargetPipe   = "pipe"   // a private os.pipe() whose reader is the parent (default)
	TargetStdout = "stdout" // sys.stdout, with fd 1 pointed at a pipe the program controls
)

// Resource is a named thing that threads take, use, or park inside.
type Resource struct {
	Name    string
	Kind    Kind
	Target  string // buffered-writer only: TargetPipe (default) or TargetStdout
	Workers int    // executor only: max_workers (0 means 1)
	Pos     Pos
}

// Thread is a thread the parent starts (with a Start step). Threads are daemon
// threads; the parent resumes every park right after the fork and joins them.
type Thread struct {
	Name  string
	Steps []Step
	Pos   Pos
}

// Op is what a step does.
type Op string

const (
	OpTake    Op = "take"    // acquire Resource and keep it (lock, rlock, condition, semaphore, queue, logging-module, mp-lock)
	OpRelease Op = "release" // release Resource, which this thread holds
	OpUse     Op = "use"     // one complete operation on Resource (acquire+release, put+get, log, write+flush, import, query, submit)
	OpPark    Op = "park"    // signal Event as parked and wait until the parent resumes it after the fork; with Resource, park inside one operation on it
	OpSignal  Op = "signal"  // set Event
	OpWait    Op = "wait"    // wait until Event is set (a park or a signal)
	OpStart   Op = "start"   // main only: start Thread
	OpFork    Op = "fork"    // main only: fork, as Fork says
	OpExit    Op = "exit"    // child only, last: leave with sys.exit() (flushes std streams) instead of returning / os._exit
)

// Step is one step of a thread, of main, or of the child. Which fields are
// set depends on Op; Validate checks the combinations.
type Step struct {
	Op       Op
	Resource string // take, release, use; park: the resource to park inside ("" parks outside any)
	Event    string // park, signal, wait
	Thread   string // start
	Fork     *Fork  // fork
	Pos      Pos
}

// Via is how the parent forks.
type Via string

const (
	ViaOSFork  Via = "os.fork" // os.fork(); under spawn/forkserver, the child runs in a multiprocessing Process of that method instead
	ViaProcess Via = "process" // multiprocessing.get_context(method).Process
	ViaPool    Via = "pool"    // multiprocessing.get_context(method).Pool(Processes).map over Tasks tasks, each running Child
)

// Vias lists every Via.
var Vias = []Via{ViaOSFork, ViaProcess, ViaPool}

// Fork says how the parent forks and what the child does.
type Fork struct {
	Via       Via
	Processes int // pool only: worker processes (0 means 2)
	Tasks     int // pool only: tasks mapped (0 means 4)
	Child     []Step
	Pos       Pos
}

// Verdict is the outcome of one execution.
type Verdict string

const (
	OK       Verdict = "ok"       // every process completed and the program exited 0
	Deadlock Verdict = "deadlock" // proved: a process whose every thread waits forever
	Hang     Verdict = "hang"     // timed out without proof
	Crash    Verdict = "crash"    // a process was killed by a signal
	// ErrorVerdict is "error": an exception or a non-zero exit. (Not named
	// Error: that is the type of a problem found in a scenario, errors.go.)
	ErrorVerdict Verdict = "error"
)

// Verdicts lists every Verdict.
var Verdicts = []Verdict{OK, Deadlock, Hang, Crash, ErrorVerdict}

// Start methods.
const (
	MethodFork       = "fork"
	MethodSpawn      = "spawn"
	MethodForkserver = "forkserver"
	// MethodDefault is what the interpreter does when the program does not
	// choose: fork up to 3.13 on Linux, forkserver from 3.14. A run under it
	// records the method actually used.
	MethodDefault = "default"
)

// Methods lists the start methods run when none are asked for, in the order
// reports show them.
var Methods = []string{MethodFork, MethodSpawn, MethodForkserver}

// AllMethods is Methods and MethodDefault: what --method and expect: accept.
var AllMethods = []string{MethodFork, MethodSpawn, MethodForkserver, MethodDefault}

// Expect is the expected verdict per start method, for the Python versions
// that Python selects ("" selects every version).
type Expect struct {
	Python   string             // a version range: "", "3.12", ">=3.12", "<3.12", "3.8-3.11"
	Verdicts map[string]Verdict // start method -> verdict; a method absent is not checked
	Pos      Pos
}

// Pos is a position in the scenario file, 1-based; zero when built in memory.
type Pos struct {
	Line, Col int
}
