package certify

import (
	"fmt"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// object names what a resource of kind k is in Python.
var object = map[scenario.Kind]string{
	scenario.Lock:           "a `threading.Lock`",
	scenario.RLock:          "a `threading.RLock`",
	scenario.Condition:      "a `threading.Condition`'s lock",
	scenario.Semaphore:      "a `threading.Semaphore(1)`",
	scenario.Queue:          "a `queue.Queue`'s mutex",
	scenario.LoggingHandler: "a `logging.StreamHandler`'s lock",
	scenario.LoggingModule:  "`logging`'s module lock",
	scenario.BufferedWriter: "an `io.BufferedWriter`'s lock",
	scenario.Module:         "importlib's lock of a module being imported",
	scenario.SQLite:         "a shared `sqlite3` connection's mutex",
	scenario.Executor:       "a `ThreadPoolExecutor`",
	scenario.MPLock:         "a `multiprocessing.Lock`",
}

// inside says what a thread parked inside one operation on kind k is doing,
// where the program line alone would not say it ("" when it does).
var inside = map[scenario.Kind]string{
	scenario.LoggingHandler: "inside the handler's `emit()`, in a `write()` of its stream, the handler's lock held",
	scenario.BufferedWriter: "in a write blocked on a full pipe, the buffer's lock held",
	scenario.Module:         "inside the module's body during its first import, importlib's module lock held",
	scenario.SQLite:         "inside a query on the connection (a user-defined function is running), SQLite's connection mutex held",
	scenario.Executor:       "in a task running on the executor's worker",
}

// atForkHook names what, inside the parent's fork call, takes a resource of
// kind k before the fork happens, for the kinds a standard-library module
// registers such a hook for.
var atForkHook = map[scenario.Kind]string{
	scenario.LoggingModule: "logging's own before-fork hook (registered by `logging` with `os.register_at_fork(before=...)`)",
}

// describe says what a kind is: "lock: a `threading.Lock`".
func describe(k scenario.Kind) string {
	if o := object[k]; o != "" {
		return string(k) + ": " + o
	}
	return string(k)
}

// holding says how h holds its resource, e.g. "inside `with lock_L:`".
func holding(h Holder) string {
	if !h.Inside {
		return fmt.Sprintf("acquired by `%s` and kept", h.Site.Code)
	}
	if s := inside[h.Kind]; s != "" {
		return s
	}
	return fmt.Sprintf("inside `%s`", h.Site.Code)
}

// at is "PROG:LINE" for a site ("PROG" when the line is unknown).
func (c *Certificate) at(s Site) string {
	if s.Line == 0 {
		return c.Program
	}
	return fmt.Sprintf("%s:%d", c.Program, s.Line)
}

// atCode is "PROG:LINE (`code`)".
func (c *Certificate) atCode(s Site) string {
	if s.Code == "" {
		return c.at(s)
	}
	return fmt.Sprintf("%s (`%s`)", c.at(s), s.Code)
}

// process names the stuck process for a sentence.
func process(where string) string {
	switch where {
	case "worker":
		return "the pool worker"
	case "parent":
		return "the parent itself"
	case "":
		return "the stuck process"
	}
	return "the " + where
}

// list joins words as a person would: "a", "a and b", "a, b and c".
func list(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
