package run

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Limits of one run. A rendered program needs little (tens of MB, a few
// seconds of CPU, a few dozen files and at most about 20 processes: a pool
// of 8, a forkserver, a resource tracker); these stop a runaway one, or a
// hostile one, before it hurts the machine the fuzzer shares.
const (
	LimitAddressSpace = 4 << 30 // bytes of virtual memory per process (RLIMIT_AS); CPython threads reserve 8 MB stacks and 64 MB malloc arenas
	LimitCPUSeconds   = 120     // CPU seconds per process (RLIMIT_CPU); the run's timeout comes first in practice
	LimitOpenFiles    = 1024    // open files per process (RLIMIT_NOFILE)
	// MaxProcesses is the most processes one run's tree may have at once;
	// more and the run is killed with the verdict error. RLIMIT_NPROC
	// would not do: it counts every process of the user, and root is exempt.
	MaxProcesses = 64
)

// rlimit is struct rlimit64 of prlimit64(2).
type rlimit struct{ cur, max uint64 }

// limit lowers the resource limits of the leader pid right after its start,
// before it has forked anything: every process of the tree inherits them.
// A limit is only ever lowered, never raised, so it works unprivileged.
func limit(pid int) error {
	for _, l := range []struct {
		name string
		res  int
		cur  uint64
		max  uint64
	}{
		{"address space", syscall.RLIMIT_AS, LimitAddressSpace, LimitAddressSpace},
		// SIGXCPU at the soft limit, SIGKILL at the hard one.
		{"CPU time", syscall.RLIMIT_CPU, LimitCPUSeconds, LimitCPUSeconds + 5},
		{"open files", syscall.RLIMIT_NOFILE, LimitOpenFiles, LimitOpenFiles},
	} {
		var old rlimit
		if err := prlimit(pid, l.res, nil, &old); err != nil {
			return fmt.Errorf("read %s limit of %d: %w", l.name, pid, err)
		}
		lim := rlimit{cur: min(l.cur, old.cur), max: min(l.max, old.max)}
		if err := prlimit(pid, l.res, &lim, nil); err != nil {
			return fmt.Errorf("limit %s of %d: %w", l.name, pid, err)
		}
	}
	return nil
}

func prlimit(pid, res int, set, get *rlimit) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(res),
		uintptr(unsafe.Pointer(set)), uintptr(unsafe.Pointer(get)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
