// Package python owns finding the Python interpreters that scenarios run on:
// discovering candidates on PATH and under pyenv, probing each one in a
// bounded child process, and resolving --python specs to interpreters.
//
// Only CPython 3.8 and newer qualify: the scenarios rely on CPython internals
// (its locks, its at-fork hooks), which other implementations do not share.
package python

// Interpreter is a working CPython that scenarios can run on.
type Interpreter struct {
	// Path is absolute and resolved: a pyenv shim becomes the real binary
	// (it is the interpreter's own sys.executable).
	Path    string `json:"path"`
	Version string `json:"version"` // "3.11.7", "3.14.0rc1"
	// Minor is "3.11", or "3.13t" for a free-threaded build, which behaves
	// differently at fork and so counts as its own minor.
	Minor          string `json:"minor"`
	Source         string `json:"source"`         // "flag", "PATH" or "pyenv": where it was found
	Implementation string `json:"implementation"` // "CPython"
	FreeThreaded   bool   `json:"free_threaded"`
	Debug          bool   `json:"debug"`
}

// Skipped is a candidate that is not used, and why.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Sources, in priority order: when two candidates are the same interpreter,
// the one from the earlier source is kept.
const (
	SourceFlag  = "flag"
	SourcePATH  = "PATH"
	SourcePyenv = "pyenv"
)
