package proc

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

// Scanner lists the process table for many runs at once. One Scan per poll
// tick serves every live run: it lists /proc once and reads the stat of each
// pid it has not yet seen, plus the stat of every pid that belongs to a
// watched tree. A pid seen outside every tree keeps its cached stat, and is
// not read again while it stays in the listing (a reused pid has to disappear
// from the listing first, so it is read anew). Membership is decided anew on
// every Scan from the cached stats: a run registers its group only after its
// process started, and the children it forks by then must still be found.
type Scanner struct {
	mu      sync.Mutex
	foreign map[int]Stat
}

// NewScanner returns a Scanner with an empty cache.
func NewScanner() *Scanner { return &Scanner{foreign: map[int]Stat{}} }

// Forget makes the next Scan read pid again: call it for a process that was
// just started, which a Scan may have seen before it changed its group.
func (s *Scanner) Forget(pid int) {
	s.mu.Lock()
	delete(s.foreign, pid)
	s.mu.Unlock()
}

// Scan returns the stat of every process that belongs to a watched tree: its
// process group is in groups, or its pid is in known, or its parent belongs
// (transitively). Zombies are included: they still have to be reaped.
func (s *Scanner) Scan(groups, known map[int]bool) (map[int]Stat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pids, err := listPids()
	if err != nil {
		return nil, err
	}
	seen := make(map[int]bool, len(pids))
	all := make([]Stat, 0, len(pids))
	cached := map[int]bool{}
	for _, pid := range pids {
		seen[pid] = true
		if st, ok := s.foreign[pid]; ok && !groups[st.PGrp] && !known[pid] {
			all = append(all, st)
			cached[pid] = true
			continue
		}
		st, err := ReadStat(pid)
		if err != nil {
			continue // exited since the listing
		}
		all = append(all, st)
	}
	for pid := range s.foreign {
		if !seen[pid] {
			delete(s.foreign, pid)
		}
	}
	members := Members(all, groups, known)
	for _, st := range all {
		if _, ok := members[st.Pid]; ok {
			delete(s.foreign, st.Pid)
		} else {
			s.foreign[st.Pid] = st
		}
	}
	// A member found through a cached stat is read fresh, so that callers see
	// its current state.
	for pid := range members {
		if !cached[pid] {
			continue
		}
		if fresh, err := ReadStat(pid); err == nil {
			members[pid] = fresh
		} else {
			delete(members, pid)
		}
	}
	return members, nil
}

// Members picks from all the processes of the watched trees: in groups, in
// known, or a descendant of one of those.
func Members(all []Stat, groups, known map[int]bool) map[int]Stat {
	m := map[int]Stat{}
	for _, st := range all {
		if groups[st.PGrp] || known[st.Pid] {
			m[st.Pid] = st
		}
	}
	// Parent chains: repeat until no process joins (trees are shallow).
	for grew := true; grew; {
		grew = false
		for _, st := range all {
			if _, in := m[st.Pid]; in {
				continue
			}
			if _, parent := m[st.PPid]; parent {
				m[st.Pid] = st
				grew = true
			}
		}
	}
	return m
}

func listPids() ([]int, error) {
	f, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
