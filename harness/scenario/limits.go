package scenario

// Limits keep every scenario small enough to render, run and shrink in
// seconds, and keep hostile input from costing memory or time.
const (
	MaxResources     = 16      // resources per scenario
	MaxThreads       = 8       // threads per scenario
	MaxStepsPerList  = 64      // steps in one list (a thread, main, the child)
	MaxSteps         = 256     // steps in all lists together
	MinProcesses     = 1       // pool processes
	MaxProcesses     = 8       // pool processes
	MinTasks         = 1       // pool tasks
	MaxTasks         = 64      // pool tasks
	MinWorkers       = 1       // executor workers
	MaxWorkers       = 8       // executor workers
	MaxAboutLen      = 2000    // characters (runes) of about
	MaxFileSize      = 1 << 20 // bytes of one scenario file
	MaxDepth         = 20      // YAML nesting depth
	MaxExpect        = 16      // expect blocks
	MaxErrors        = 100     // errors reported for one file; the rest are counted
	MaxNameLen       = 32      // resource, thread and event names
	MaxScenarioName  = 64      // scenario names
	DefaultProcesses = 2       // pool processes when Processes is 0
	DefaultTasks     = 4       // pool tasks when Tasks is 0
	DefaultWorkers   = 1       // executor workers when Workers is 0
)
