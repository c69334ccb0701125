// Package signature owns the Signature: what identifies one fork bug, so that
// findings are deduplicated and the shrinker never slides onto another bug.
package signature

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Signature identifies a fork deadlock: the kind of resource, where its holder
// held it at the fork, and where the stuck process blocked.
type Signature struct {
	Kind    scenario.Kind `yaml:"kind" json:"kind"`       // the resource the stuck process waits for
	Held    string        `yaml:"held" json:"held"`       // the holder's operation at the fork, e.g. "park in sqlite", "take lock"
	Where   string        `yaml:"where" json:"where"`     // the stuck process: parent, child or worker
	Blocked string        `yaml:"blocked" json:"blocked"` // the stuck operation, e.g. "use sqlite"
	Frames  []string      `yaml:"frames" json:"frames"`   // normalised innermost frames of the stuck stack ("module:function")
}

// maxFrames bounds the frames kept when the stack never reaches the program
// (a stuck interpreter shutdown, say): enough to tell two bugs apart.
const maxFrames = 6

// Of derives the signature of a deadlock result of s. It reports false when r
// is not a proved deadlock, names no stuck step that s explains, or has no
// stuck stack: a stuck process always runs some Python code, so an empty
// stack means the dump was lost, and a key without frames would pass for a
// new bug.
func Of(s *scenario.Scenario, r run.Result) (Signature, bool) {
	if s == nil || r.Verdict != scenario.Deadlock || r.Evidence == nil || len(r.Frames) == 0 {
		return Signature{}, false
	}
	st, ok := lastStep(r.Events, r.Evidence.Pid)
	if !ok {
		return Signature{}, false
	}
	// The role the stuck process announced in its own trace lines is
	// certain; r.Where can be "process" when the proof came first.
	where := st.role
	if where == "" {
		where = r.Where
	}
	sig := Signature{Where: where, Blocked: string(st.op), Frames: Frames(r.Frames)}
	holders := heldAtFork(s)
	if res := s.Resource(st.target); res != nil {
		// The stuck step names a resource: that is what it waits for.
		sig.Kind = res.Kind
		sig.Blocked += " " + string(res.Kind)
		sig.Held = holders[res.Name]
		return sig, true
	}
	// A step on no resource (the fork itself, blocked by an at-fork hook):
	// blame the resource held at the fork whose library the stuck stack is
	// in (logging's module lock), else the first held, in declaration order.
	for _, res := range s.Resources {
		h, ok := holders[res.Name]
		if !ok {
			continue
		}
		if sig.Kind == "" || inStack(sig.Frames, res.Kind) && !inStack(sig.Frames, sig.Kind) {
			sig.Kind, sig.Held = res.Kind, h
		}
	}
	return sig, true
}

// stackModules names the library module whose frames show that a stack is
// waiting for a resource of a kind, when the stuck step does not name it.
var stackModules = map[scenario.Kind]string{scenario.LoggingModule: "logging:"}

func inStack(frames []string, k scenario.Kind) bool {
	prefix, ok := stackModules[k]
	if !ok {
		return false
	}
	for _, f := range frames {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// Key is the deduplication key: it names kinds and operations, never resource
// or thread names, line numbers, interpreter paths or pids. A take and a use
// block in the same acquire, so the key does not tell them apart. Of the
// frames it keeps the two ends, where the process waits and the program's
// call into the library: a frame line of a dump can be garbled by another
// process writing to the same stderr, and the frames between the ends add
// little (which multiprocessing path led to a stuck fork).
func (g Signature) Key() string {
	blocked := g.Blocked
	if rest, ok := strings.CutPrefix(blocked, string(scenario.OpTake)+" "); ok {
		blocked = string(scenario.OpUse) + " " + rest
	}
	parts := []string{string(g.Kind), g.Held, g.Where, blocked}
	if n := len(g.Frames); n > 0 {
		parts = append(parts, g.Frames[0])
		if last := g.Frames[n-1]; n > 1 && isOwn(last) {
			parts = append(parts, last)
		}
	}
	return strings.Join(parts, "|")
}

// isOwn reports whether a normalised frame is of the program's own code.
func isOwn(frame string) bool {
	return strings.HasPrefix(frame, "program:") || strings.HasPrefix(frame, "ffmod:")
}

// String is the signature for a person, on one line.
func (g Signature) String() string {
	held := g.Held
	if held == "" {
		held = "nothing known"
	}
	s := string(g.Kind) + ": held by " + held + " at the fork; " + g.Where + " blocked in " + g.Blocked
	if len(g.Frames) > 0 {
		s += " at " + strings.Join(g.Frames, " < ")
	}
	return s
}

// step is one parsed `step WHO:INDEX OP TARGET` trace event.
type step struct {
	role   string
	who    string
	index  int
	op     scenario.Op
	target string
}

// lastStep finds the last step event of pid: the step it is blocked in.
func lastStep(events []run.Event, pid int) (step, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.Pid != pid || e.Event != "step" {
			continue
		}
		f := strings.Fields(e.Args)
		if len(f) < 2 {
			continue
		}
		st := step{role: e.Role, op: scenario.Op(f[1])}
		if len(f) > 2 {
			st.target = f[2]
		}
		if who, idx, ok := strings.Cut(f[0], ":"); ok {
			st.who = who
			st.index, _ = strconv.Atoi(idx)
		}
		return st, true
	}
	return step{}, false
}

// heldAtFork maps a resource name to how it is held at the moment of the
// fork (scenario.HeldAtFork): "take KIND" or "park in KIND" by a parked
// thread, "main take KIND" by the forking thread.
func heldAtFork(s *scenario.Scenario) map[string]string {
	out := map[string]string{}
	for _, h := range s.HeldAtFork() {
		kind := ""
		if r := s.Resource(h.Resource); r != nil {
			kind = string(r.Kind)
		}
		how := "take " + kind
		switch {
		case h.Thread == "main":
			how = "main take " + kind
		case h.Inside:
			how = "park in " + kind
		}
		if _, ok := out[h.Resource]; !ok {
			out[h.Resource] = how
		}
	}
	return out
}

// stdlib matches a file of the standard library under any interpreter prefix
// and version: ".../lib/python3.11/logging/__init__.py".
var stdlib = regexp.MustCompile(`/lib/python3\.\d+t?/(?:site-packages/)?(.+)\.py$`)

// Frames normalises a stack, innermost first, and keeps it up to (and with)
// the first frame of the program's own code: where the stuck step called into
// the library. Library frames become "logging:acquire" (no path, line or
// version), the program's frames "program:FUNC", a generated module's body
// "ffmod:<module>".
func Frames(frames []run.Frame) []string {
	var out []string
	for _, f := range frames {
		mod, own := module(f.File)
		out = append(out, mod+":"+f.Func)
		if own || len(out) == maxFrames {
			break
		}
	}
	return out
}

// module names a frame's file, and reports whether it is the program's own.
func module(file string) (string, bool) {
	if frozen, ok := strings.CutPrefix(file, "<frozen "); ok {
		return strings.TrimSuffix(frozen, ">"), false
	}
	if m := stdlib.FindStringSubmatch(file); m != nil {
		mod := strings.TrimSuffix(m[1], "/__init__")
		return strings.ReplaceAll(mod, "/", "."), false
	}
	if strings.HasPrefix(path.Base(file), "ffmod_") {
		return "ffmod", true
	}
	return "program", true
}
