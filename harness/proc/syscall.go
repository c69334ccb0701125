package proc

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
)

// Syscall is a thread's /proc/.../syscall: the system call it is blocked in.
type Syscall struct {
	Running bool      // "running": on a CPU, no syscall to report
	Nr      int       // -1: blocked, but not in a system call
	Args    [6]uint64 // valid when Nr >= 0
}

// ParseSyscall parses "running", "-1 SP PC" or "NR A1..A6 SP PC".
func ParseSyscall(b []byte) (Syscall, error) {
	f := bytes.Fields(b)
	if len(f) == 1 && string(f[0]) == "running" {
		return Syscall{Running: true, Nr: -1}, nil
	}
	if len(f) == 0 {
		return Syscall{}, fmt.Errorf("parse syscall: empty")
	}
	nr, err := strconv.Atoi(string(f[0]))
	if err != nil {
		return Syscall{}, fmt.Errorf("parse syscall %q: %w", trim(b), err)
	}
	s := Syscall{Nr: nr}
	if nr < 0 {
		return s, nil
	}
	if len(f) < 7 {
		return Syscall{}, fmt.Errorf("parse syscall %q: %d fields", trim(b), len(f))
	}
	for i := range s.Args {
		if s.Args[i], err = strconv.ParseUint(string(f[i+1]), 0, 64); err != nil {
			return Syscall{}, fmt.Errorf("parse syscall arg %d: %w", i+1, err)
		}
	}
	return s, nil
}

// futexNr is the futex system call number of this architecture (0: unknown,
// and then nothing is ever proved).
var futexNr = map[string]int{"amd64": 202, "arm64": 98}[runtime.GOARCH]

// Futex operations and flags (linux/futex.h).
const (
	futexWait       = 0
	futexLockPI     = 6
	futexWaitBitset = 9
	futexLockPI2    = 13
	futexPrivate    = 128
	futexCmdMask    = 127 // op without PRIVATE (128) and CLOCK_REALTIME (256)
)

// foreverPrivate reports whether s is a futex wait on process-private memory
// without a timeout: only another thread of the same process can end it.
// A shared futex (multiprocessing.Lock) can be woken by another process.
func (s Syscall) foreverPrivate() bool {
	if s.Running || futexNr == 0 || s.Nr != futexNr {
		return false
	}
	op := s.Args[1]
	switch op & futexCmdMask {
	case futexWait, futexWaitBitset, futexLockPI, futexLockPI2:
	default:
		return false
	}
	return op&futexPrivate != 0 && s.Args[3] == 0
}

// writeNrs are this architecture's write(2) and writev(2): their first
// argument is the file descriptor written to.
var writeNrs = map[string][2]int{"amd64": {1, 20}, "arm64": {64, 66}}[runtime.GOARCH]

// writeFd returns the descriptor s writes to, when s is a write or writev.
func (s Syscall) writeFd() (int, bool) {
	if s.Running || writeNrs == [2]int{} || (s.Nr != writeNrs[0] && s.Nr != writeNrs[1]) {
		return 0, false
	}
	return int(s.Args[0]), true
}
