// Package guard owns the last line of defence against leaked processes: a
// tiny shell process that outlives forkfuzz by a moment and kills every
// process group forkfuzz was still running when it died, however it died
// (SIGKILL, a crash). The parent-death signal covers only the leader of a
// group; a forked child, a pool worker or a forkserver whose leader died
// would live on, most likely stuck in the very deadlock it reproduces.
//
// Each starter calls Add with a group's id once the leader is started and
// Remove once the group is empty and reaped. The guard reads those as lines
// on its stdin, a pipe only forkfuzz holds (close-on-exec), so its EOF means
// that forkfuzz is gone; it then kills every group still listed, and removes
// every private temporary directory still listed (TempDir).
package guard

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// script keeps the live groups in a word list, with builtins only (dash has
// no arrays; a sed per run would cost a process per execution). It ignores
// the terminal's signals: a Ctrl-C is forkfuzz's to handle, and the guard must
// still be there if forkfuzz is then killed.
// Directories are kept one per line (a path may hold spaces), removed only
// when absolute, after the kills.
const script = `trap '' INT TERM HUP QUIT
live=" "
dirs=""
nl='
'
while read -r op arg; do
	case "$op" in
	+) live="$live$arg " ;;
	-) new=" "; for p in $live; do [ "$p" = "$arg" ] || new="$new$p "; done; live=$new ;;
	d) dirs="$dirs$arg$nl" ;;
	r) new=""; IFS=$nl; set -f; for d in $dirs; do [ "$d" = "$arg" ] || new="$new$d$nl"; done; set +f; unset IFS; dirs=$new ;;
	esac
done
for pg in $live; do kill -s KILL -- "-$pg" 2>/dev/null; done
IFS=$nl; set -f
for d in $dirs; do case "$d" in /*) rm -rf -- "$d" ;; esac; done
`

var g struct {
	sync.Mutex
	started bool
	w       io.WriteCloser // nil when the guard could not start
	pid     int
}

// start runs the guard once. Without /bin/sh forkfuzz still works; only the
// SIGKILL case is then not covered.
func start() {
	if g.started {
		return
	}
	g.started = true
	r, w, err := os.Pipe() // both ends close-on-exec: no child holds the write end
	if err != nil {
		return
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Stdin = r
	// Its own group: a Ctrl-C sent to forkfuzz's group does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return
	}
	go cmd.Wait() // reaps it if it ever ends before forkfuzz
	g.w, g.pid = w, cmd.Process.Pid
}

// Pid is the guard's process id, 0 before the first Add: tests that list
// the children of the process know it is not a leftover.
func Pid() int {
	g.Lock()
	defer g.Unlock()
	return g.pid
}

// Add lists process group pgid as one to kill if forkfuzz dies.
func Add(pgid int) { send('+', pgid) }

// Remove takes pgid off the list: its group is empty and reaped, so the
// number may be reused by processes that are not ours.
func Remove(pgid int) { send('-', pgid) }

func send(op byte, pgid int) {
	if pgid <= 1 {
		return // never kill -1 or -0: every process, or our own group
	}
	line(op, strconv.Itoa(pgid))
}

func line(op byte, arg string) {
	g.Lock()
	defer g.Unlock()
	start()
	if g.w != nil {
		// A guard that died makes this fail; forkfuzz goes on without it.
		fmt.Fprintf(g.w, "%c %s\n", op, arg)
	}
}

// TempDir makes a private temporary directory (os.MkdirTemp) that is
// removed by cleanup, or by the guard if forkfuzz dies first: an
// interrupted run leaves no scratch files behind, even after a SIGKILL.
func TempDir(pattern string) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	listed := !strings.ContainsAny(dir, "\n\r") // one line of the guard's list
	if listed {
		line('d', dir)
	}
	return dir, func() {
		os.RemoveAll(dir)
		if listed {
			line('r', dir)
		}
	}, nil
}
