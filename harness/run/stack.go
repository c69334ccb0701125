package run

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/proc"
)

// dumpWait bounds how long a faulthandler dump is awaited. It is generous:
// a loaded machine may take a while to schedule the woken process, and it is
// only spent when the dump does not come.
const dumpWait = time.Second

// takeStack asks pid for its Python stacks (SIGUSR1, faulthandler) and
// collects the dump from stderr. The handler writes synchronously, so for a
// stuck process the dump is complete once some of it has arrived and the
// process is proved blocked again (a blocked reading alone is not enough: on
// a loaded machine the signal may not have been handled yet); for any other
// process once stderr has stayed quiet for a few milliseconds. Either way it
// waits at most dumpWait.
func takeStack(pid int, role string, errs *stream, stuck bool) (ProcessStack, bool) {
	ps := ProcessStack{Pid: pid, Role: role}
	if !proc.HandlesSignal(pid, syscall.SIGUSR1) {
		return ps, false
	}
	mark := errs.mark()
	if syscall.Kill(pid, syscall.SIGUSR1) != nil {
		return ps, false
	}
	deadline := time.Now().Add(dumpWait)
	last, quietSince := mark, time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		if stuck {
			errs.sync(dumpWait)
			if errs.mark() == mark {
				continue // the handler has not written yet
			}
			if _, ok, _ := proc.Blocked(pid); ok {
				break
			}
			continue
		}
		errs.sync(dumpWait)
		if n := errs.mark(); n != last {
			last, quietSince = n, time.Now()
		}
		if last != mark && time.Since(quietSince) > 10*time.Millisecond {
			break
		}
	}
	errs.sync(dumpWait)
	ps.Text = dropServerFrames(errs.since(mark))
	ps.Threads = parseDump(ps.Text)
	return ps, ps.Text != ""
}

var (
	threadRe = regexp.MustCompile(`^(Current thread|Thread) (0x[0-9a-fA-F]+)\b.*\(most recent call first\):`)
	stackRe  = regexp.MustCompile(`^Stack \(most recent call first\):`)
	frameRe  = regexp.MustCompile(`^\s+File "(.*)", line (\d+) in (.*)$`)
)

// serverFrameRe matches the two outermost frames of a case run by the
// executor's server (harness/executor): its _run, called from its module
// code, both in the "<stdin>" its source was read from.
var serverFrameRe = regexp.MustCompile(`(?m)^\s+File "<stdin>", line \d+ in _run\n\s+File "<stdin>", line \d+ in <module>\n`)

// dropServerFrames removes the executor's frames from a dump, so that a
// stack reads, and is recorded, as a fresh interpreter's would.
func dropServerFrames(text string) string {
	return serverFrameRe.ReplaceAllString(text, "")
}

// parseDump parses faulthandler output: per thread a header line, then
// frames innermost first ("  File "f.py", line 3 in g").
func parseDump(text string) []ThreadStack {
	var ts []ThreadStack
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if m := threadRe.FindStringSubmatch(line); m != nil {
			ts = append(ts, ThreadStack{ID: m[2], Current: m[1] == "Current thread"})
			continue
		}
		if stackRe.MatchString(line) {
			ts = append(ts, ThreadStack{ID: "current", Current: true})
			continue
		}
		m := frameRe.FindStringSubmatch(line)
		if m == nil || len(ts) == 0 {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		t := &ts[len(ts)-1]
		t.Frames = append(t.Frames, Frame{File: m[1], Line: n, Func: strings.TrimSpace(m[3])})
	}
	return ts
}

// currentFrames returns the frames of the thread that ran the handler, or
// of the only thread.
func currentFrames(ts []ThreadStack) []Frame {
	for _, t := range ts {
		if t.Current {
			return t.Frames
		}
	}
	if len(ts) == 1 {
		return ts[0].Frames
	}
	return nil
}
