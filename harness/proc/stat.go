package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Stat is the part of /proc/PID/stat (or task/TID/stat) that forkfuzz uses.
type Stat struct {
	Pid        int
	Comm       string
	State      byte // R, S, D, Z, T, t, X, I
	PPid       int
	PGrp       int
	NumThreads int
	StartTime  uint64 // clock ticks after boot: tells a reused pid apart
}

// ParseStat parses a stat line. comm may contain spaces and parentheses, so
// the fields after it are counted from the last ')'.
func ParseStat(b []byte) (Stat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Stat{}, fmt.Errorf("parse stat %q: no (comm)", trim(b))
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Stat{}, fmt.Errorf("parse stat pid: %w", err)
	}
	// After ')': state(3) ppid(4) pgrp(5) ... num_threads(20) ... starttime(22).
	f := bytes.Fields(b[end+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("parse stat %q: %d fields after comm", trim(b), len(f))
	}
	s := Stat{Pid: pid, Comm: string(b[open+1 : end]), State: f[0][0]}
	ints := []struct {
		dst *int
		i   int
	}{{&s.PPid, 1}, {&s.PGrp, 2}, {&s.NumThreads, 17}}
	for _, x := range ints {
		if *x.dst, err = strconv.Atoi(string(f[x.i])); err != nil {
			return Stat{}, fmt.Errorf("parse stat field %d: %w", x.i+3, err)
		}
	}
	if s.StartTime, err = strconv.ParseUint(string(f[19]), 10, 64); err != nil {
		return Stat{}, fmt.Errorf("parse stat starttime: %w", err)
	}
	return s, nil
}

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	return readStat(fmt.Sprintf("/proc/%d/stat", pid))
}

func readStat(path string) (Stat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(b)
}

// ParseSchedstat returns the first field of a schedstat file: nanoseconds
// spent running on a CPU.
func ParseSchedstat(b []byte) (uint64, error) {
	f := bytes.Fields(b)
	if len(f) != 3 {
		return 0, fmt.Errorf("parse schedstat %q: want 3 fields", trim(b))
	}
	n, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse schedstat: %w", err)
	}
	return n, nil
}

func trim(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}
