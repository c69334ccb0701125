// Package proc owns the evidence forkfuzz reads from Linux's /proc: the
// race-free proof that a process can never run again (Blocked), the small
// parsers for stat, schedstat and syscall files, and a cheap shared scan of
// the process table that finds the processes of a run by process group and
// parent-pid chains (this kernel has no task/TID/children file).
package proc
