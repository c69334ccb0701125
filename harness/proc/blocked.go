package proc

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
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
	Op    string `json:"futex_op"` // hex, e.g. "0x189"
	Uaddr string `json:"uaddr"`    // hex address of the futex word
}

// String says the proof in one line, e.g. "pid 1234: 1 thread, futex wait
// op 0x189 (private, no timeout), no CPU time between two reads".
func (e Evidence) String() string {
	ops := map[string]bool{}
	var list []string
	for _, t := range e.Threads {
		if !ops[t.Op] {
			ops[t.Op] = true
			list = append(list, t.Op)
		}
	}
	noun := "threads"
	if len(e.Threads) == 1 {
		noun = "thread"
	}
	return fmt.Sprintf("pid %d: %d %s, futex wait op %s (private, no timeout), no CPU time between two reads",
		e.Pid, len(e.Threads), noun, strings.Join(list, ","))
}

// thread is one reading of one thread.
type thread struct {
	comm string
	run  uint64
}

// Blocked proves, race-free, that every thread of pid waits forever: it reads
// the thread set with each thread's state and run time, then each thread's
// syscall, then the thread set, states and run times again. Every thread must
// be in state S, in a private futex wait without timeout, with the thread set
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
	for _, tid := range sortedTids(before) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/syscall", pid, tid))
		if err != nil {
			return Evidence{}, false, nil // exited meanwhile
		}
		sc, err := ParseSyscall(b)
		if err != nil {
			return Evidence{}, false, fmt.Errorf("pid %d tid %d: %w", pid, tid, err)
		}
		if !sc.foreverPrivate() {
			return Evidence{}, false, nil
		}
		ev.Threads = append(ev.Threads, ThreadState{Tid: tid, Comm: before[tid].comm,
			Op: fmt.Sprintf("%#x", sc.Args[1]), Uaddr: fmt.Sprintf("%#x", sc.Args[0])})
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
