package proc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Evidence is what Blocked saw: every thread of a process waiting forever.
type Evidence struct {
	Pid     int           `json:"pid"`
	Threads []ThreadState `json:"threads"`
	At      time.Time     `json:"at"` // when the second reading ended
}

// ThreadState is one thread of a blocked process.
type ThreadState struct {
	Tid   int    `json:"tid"`
	Comm  string `json:"comm"`
	Op    string `json:"futex_op"` // hex, e.g. "0x189"; "write" for a write to a pipe
	Uaddr string `json:"uaddr"`    // hex address of the futex word; "pipe:[INODE]" for a write
}

// String says the proof in one line, e.g. "pid 1234: 1 thread, futex wait
// op 0x189 (private, no timeout), no CPU time between two reads".
func (e Evidence) String() string {
	ops, pipes := map[string]bool{}, map[string]bool{}
	var list, pipeList []string
	futexes, writers := 0, 0
	for _, t := range e.Threads {
		if t.Op == opPipeWrite {
			writers++
			if !pipes[t.Uaddr] {
				pipes[t.Uaddr] = true
				pipeList = append(pipeList, t.Uaddr)
			}
			continue
		}
		futexes++
		if !ops[t.Op] {
			ops[t.Op] = true
			list = append(list, t.Op)
		}
	}
	var parts []string
	if futexes > 0 {
		parts = append(parts, fmt.Sprintf("%d %s, futex wait op %s (private, no timeout)", futexes, threads(futexes), strings.Join(list, ",")))
	}
	if writers > 0 {
		parts = append(parts, fmt.Sprintf("%d %s writing to a full %s that only this process reads", writers, threads(writers), strings.Join(pipeList, ",")))
	}
	return fmt.Sprintf("pid %d: %s, no CPU time between two reads", e.Pid, strings.Join(parts, "; "))
}

func threads(n int) string {
	if n == 1 {
		return "thread"
	}
	return "threads"
}

// opPipeWrite is ThreadState.Op of a thread blocked writing to a pipe.
const opPipeWrite = "write"

// thread is one reading of one thread.
type thread struct {
	comm string
	run  uint64
}

// Blocked proves, race-free, that every thread of pid waits forever: it reads
// the thread set with each thread's state and run time, then each thread's
// syscall, then the thread set, states and run times again. Every thread must
// be in state S, in a private futex wait without timeout (or in a write to a
// pipe that no other process reads, see onlyReader), with the thread set
// and the run times unchanged across the two readings. A thread that was woken
// between the readings would have run, so the syscalls read in between were
// current while nobody could wake them. Listing the threads and reading
// syscalls later, without the second reading, gives false positives on thread
// churn (see FACTS.md). A zombie or an exited process is not blocked; an error
// is returned only for a malformed file, never for a process that went away.
func Blocked(pid int) (Evidence, bool, error) {
	before, ok, err := readThreads(pid)
	if !ok || err != nil {
		return Evidence{}, false, err
	}
	ev := Evidence{Pid: pid}
	pipes := map[string]bool{}
	for _, tid := range sortedTids(before) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/syscall", pid, tid))
		if err != nil {
			return Evidence{}, false, nil // exited meanwhile
		}
		sc, err := ParseSyscall(b)
		if err != nil {
			return Evidence{}, false, fmt.Errorf("pid %d tid %d: %w", pid, tid, err)
		}
		if sc.foreverPrivate() {
			ev.Threads = append(ev.Threads, ThreadState{Tid: tid, Comm: before[tid].comm,
				Op: fmt.Sprintf("%#x", sc.Args[1]), Uaddr: fmt.Sprintf("%#x", sc.Args[0])})
			continue
		}
		fd, ok := sc.writeFd()
		if !ok {
			return Evidence{}, false, nil
		}
		pipe, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil || !strings.HasPrefix(pipe, "pipe:[") {
			return Evidence{}, false, nil // a file, a socket, a terminal: someone else may read it
		}
		pipes[pipe] = true
		ev.Threads = append(ev.Threads, ThreadState{Tid: tid, Comm: before[tid].comm, Op: opPipeWrite, Uaddr: pipe})
	}
	// Who else reads the pipes is read before the second reading too: a
	// reader that drained the pipe (and left) while it was read would have
	// woken the writer, and the second reading would see it ran.
	if len(pipes) > 0 && !onlyReader(pid, pipes) {
		return Evidence{}, false, nil
	}
	after, ok, err := readThreads(pid)
	if !ok || err != nil || len(after) != len(before) {
		return Evidence{}, false, err
	}
	for tid, a := range after {
		if b, found := before[tid]; !found || b.run != a.run {
			return Evidence{}, false, nil
		}
	}
	ev.At = time.Now()
	return ev, true, nil
}

// onlyReader reports whether no process but pid holds a read end of any of
// pipes. Then a write blocked on one of them waits for pid itself to read,
// and pid, every thread of which is blocked, never will: the case of a
// thread stuck writing to a full pipe that its own process was to drain
// after the fork. forkfuzz's own end of a run's stdout and stderr is a
// reader, so a write to those is never proved stuck.
//
// A process whose descriptors cannot be read is not proof of absence: that
// read fails on and off while a process execs (a shell exec'ing the pipe's
// consumer), so it is read again a few times. Only one that stays unreadable
// and either runs as another user or is older than pid is passed over (a
// pipe reaches it only if pid's tree sent it one); any other makes the
// answer no, and the next poll tries again.
func onlyReader(pid int, pipes map[string]bool) bool {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	self, err := ReadStat(pid)
	if err != nil {
		return false
	}
	for _, p := range procs {
		other, err := strconv.Atoi(p.Name())
		if err != nil || other == pid {
			continue
		}
		switch holdsReader(other, pipes) {
		case holdsNot:
		case holdsRead:
			return false
		case holdsUnknown:
			if !foreign(other, self.StartTime) {
				return false
			}
		}
	}
	return true
}

const (
	holdsNot = iota
	holdsRead
	holdsUnknown // its descriptors stayed unreadable
)

// unreadableTries and unreadableWait bound how long a process's
// descriptors are read again before they count as unreadable.
const (
	unreadableTries = 5
	unreadableWait  = 2 * time.Millisecond
)

// holdsReader says whether process other holds a read end of one of pipes.
func holdsReader(other int, pipes map[string]bool) int {
	dir := "/proc/" + strconv.Itoa(other) + "/fd/"
	for try := 0; ; try++ {
		if try > 0 {
			time.Sleep(unreadableWait)
		}
		got, ok := readerIn(dir, other, pipes)
		if ok {
			return got
		}
		if try+1 == unreadableTries {
			return holdsUnknown
		}
	}
}

// readerIn reads one process's descriptors once; ok is false when they
// could not be read.
func readerIn(dir string, other int, pipes map[string]bool) (int, bool) {
	fds, err := readFds(dir)
	if err != nil {
		return holdsNot, gone(err)
	}
	for _, fd := range fds {
		target, err := os.Readlink(dir + fd.Name())
		if err != nil {
			if gone(err) {
				continue // closed since the listing
			}
			return holdsNot, false
		}
		if !pipes[target] {
			continue
		}
		info, err := os.ReadFile("/proc/" + strconv.Itoa(other) + "/fdinfo/" + fd.Name())
		if err != nil || readable(info) {
			return holdsRead, true // holding the pipe, and which end is unknown: assume a reader
		}
	}
	return holdsNot, true
}

// readFds lists a /proc/PID/fd directory; a variable so that a test can fail
// it as an exec does.
var readFds = os.ReadDir

// gone reports whether err says the process or descriptor no longer exists.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// foreign reports whether pid, whose descriptors stay unreadable, is beyond
// the reach of a pipe made by a process started at start: another user's,
// or older than it. A process that is gone counts as foreign.
func foreign(pid int, start uint64) bool {
	st, err := ReadStat(pid)
	if err != nil {
		return true
	}
	if st.StartTime < start {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return gone(err)
	}
	uid := strconv.Itoa(os.Getuid())
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			return !slices.Contains(strings.Fields(v), uid)
		}
	}
	return false
}

// readable reports whether an fdinfo's flags (octal) open it for reading:
// O_RDONLY (0) or O_RDWR (2) in the access mode bits.
func readable(fdinfo []byte) bool {
	for _, line := range strings.Split(string(fdinfo), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			if err != nil {
				return true
			}
			return flags&3 != 1 // not O_WRONLY
		}
	}
	return true
}

// ThreadRuns returns the run time of every thread of pid, by thread id, when
// every thread is asleep (state S); ok is false when one is not, or pid is
// gone or a zombie. Two equal readings a moment apart mean nothing ran.
func ThreadRuns(pid int) (runs map[int]uint64, ok bool) {
	ts, ok, err := readThreads(pid)
	if !ok || err != nil {
		return nil, false
	}
	runs = make(map[int]uint64, len(ts))
	for tid, t := range ts {
		runs[tid] = t.run
	}
	return runs, true
}

// readThreads reads num_threads, then every thread's stat and schedstat. ok
// is false when the process is gone, a zombie, a thread is not in S, or the
// thread count disagrees with the listing.
func readThreads(pid int) (map[int]thread, bool, error) {
	ps, err := ReadStat(pid)
	if err != nil || ps.State == 'Z' || ps.State == 'X' {
		return nil, false, nil
	}
	dir := fmt.Sprintf("/proc/%d/task", pid)
	f, err := os.Open(dir)
	if err != nil {
		return nil, false, nil
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil || len(names) != ps.NumThreads {
		return nil, false, nil
	}
	ts := make(map[int]thread, len(names))
	for _, n := range names {
		tid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		st, err := readStat(dir + "/" + n + "/stat")
		if err != nil {
			return nil, false, nil
		}
		if st.State != 'S' {
			return nil, false, nil
		}
		b, err := os.ReadFile(dir + "/" + n + "/schedstat")
		if err != nil {
			return nil, false, nil
		}
		run, err := ParseSchedstat(b)
		if err != nil {
			return nil, false, fmt.Errorf("pid %d tid %d: %w", pid, tid, err)
		}
		ts[tid] = thread{comm: st.Comm, run: run}
	}
	return ts, true, nil
}

func sortedTids(m map[int]thread) []int {
	tids := make([]int, 0, len(m))
	for t := range m {
		tids = append(tids, t)
	}
	sort.Ints(tids)
	return tids
}
