// Package executor owns the persistent Python servers that run fork-method
// cases without paying interpreter start-up: one pre-started, single-threaded
// interpreter per Python that has imported only what every rendered program
// imports (server.py), and forks a fresh case for each request. A case runs
// the program as `python PROGRAM ARGS...` would: as __main__, in its own
// process group, with the request's cwd, environment, stdout and stderr.
//
// Spawn and forkserver runs do not use it: their cost is a fresh interpreter
// by design.
package executor

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed server.py
var serverSource string

// maxRequest matches _MAX_REQUEST in server.py.
const maxRequest = 1 << 18

// closeWait bounds how long Close lets the server kill and reap its cases
// before it kills the server itself.
const closeWait = 2 * time.Second

// Server is one running executor interpreter.
type Server struct {
	Python string
	Pid    int // also its process group

	cmd     *exec.Cmd
	conn    *net.UnixConn
	startup string // startupKey of the environment it started with
	exited  chan struct{}
	out     *tail // the server's own stdout and stderr, for error messages

	mu     sync.Mutex
	nextID uint64
	cases  map[uint64]*Case // launched and not yet exited
	err    error            // why the server is gone; nil while it serves
	gone   chan struct{}    // closed when the reader stops

	closeOnce sync.Once
}

// Request is one case: the program and its arguments, run in Dir with
// exactly Env as its environment.
type Request struct {
	Program string
	Args    []string
	Dir     string // "" is our working directory, as for os/exec
	Env     []string
	// Stdout and Stderr are the case's fd 1 and 2; the caller keeps (and
	// closes) its copies. When nil, Launch makes a pipe, readable from Case.
	Stdout, Stderr *os.File
}

// Case is one launched program.
type Case struct {
	Pid int // also its process group

	// Stdout and Stderr read the case's output when the request gave no
	// files; the caller closes them.
	Stdout, Stderr *os.File

	started chan error
	done    chan struct{}
	status  syscall.WaitStatus
	err     error
}

// Wait returns the case's wait status once the server has reaped it, or an
// error when the server went away first.
func (c *Case) Wait() (syscall.WaitStatus, error) {
	<-c.done
	return c.status, c.err
}

// Done is closed once the case has exited (or its server is gone).
func (c *Case) Done() <-chan struct{} { return c.done }

// ErrStartupEnv is returned by Launch for a request whose environment would
// have started the interpreter differently (PYTHON*, LC_*, LANG).
var ErrStartupEnv = errors.New("executor: the case's start-up environment differs from the server's")

// Start starts a server for python with env as the environment its
// interpreter starts with. Cancelling ctx closes it, like Close.
func Start(ctx context.Context, python string, env []string) (*Server, error) {
	return start(ctx, python, env, serverSource)
}

// start is Start with the server's source given (tests break it).
func start(ctx context.Context, python string, env []string, source string) (*Server, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("executor %s: socketpair: %w", python, err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "executor"), os.NewFile(uintptr(fds[1]), "executor-server")
	defer theirs.Close()
	fc, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		return nil, fmt.Errorf("executor %s: %w", python, err)
	}
	conn := fc.(*net.UnixConn)
	outR, outW, err := os.Pipe()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("executor %s: %w", python, err)
	}
	// The source comes on stdin: `python -c` would differ from `python
	// PROGRAM` in what it imports at start (3.13 imports linecache for -c).
	cmd := exec.Command(python, "-")
	cmd.Stdin = strings.NewReader(source)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, outW, outW
	cmd.ExtraFiles = []*os.File{theirs} // fd 3
	// Its own group, so that a case's group kill never reaches it. When we
	// die it gets SIGTERM (see guard.Start) and takes its cases with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	err = guard.Start(cmd)
	outW.Close()
	if err != nil {
		outR.Close()
		conn.Close()
		return nil, fmt.Errorf("executor %s: start: %w", python, err)
	}
	s := &Server{Python: python, Pid: cmd.Process.Pid, cmd: cmd, conn: conn, startup: startupKey(env),
		exited: make(chan struct{}), out: newTail(outR), cases: map[uint64]*Case{}, gone: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	if err := s.ready(); err != nil {
		s.Close()
		return nil, err
	}
	go s.read()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.gone:
		}
	}()
	return s, nil
}

// NotFreshError says that a server found, at its start, that a case it forks
// would not start as `python PROGRAM` does on this interpreter (what it
// hides and hands out differs from a fresh import): its cases must run in
// fresh interpreters.
type NotFreshError struct {
	Python string
	Why    string // the first difference found
}

func (e *NotFreshError) Error() string {
	return fmt.Sprintf("executor %s: a forked case would not start as a fresh interpreter does (%s)", e.Python, e.Why)
}

// ready waits for the server's "R PID" hello, or "U PID WHY" (NotFreshError).
func (s *Server) ready() error {
	buf := make([]byte, 4096)
	s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, _, _, _, err := s.conn.ReadMsgUnix(buf, nil)
	s.conn.SetReadDeadline(time.Time{})
	if err == nil && bytes.HasPrefix(buf[:n], []byte("U ")) {
		// It checked itself against a fresh interpreter and differs; it exits.
		_, why, _ := strings.Cut(string(buf[2:n]), " ")
		<-s.exited
		return &NotFreshError{Python: s.Python, Why: why}
	}
	if err != nil || !bytes.HasPrefix(buf[:n], []byte("R ")) {
		syscall.Kill(-s.Pid, syscall.SIGKILL)
		<-s.exited
		return fmt.Errorf("executor %s: no hello (%v): %s", s.Python, err, s.out.String())
	}
	return nil
}

// Launch starts one case and returns once it exists, in its own process
// group.
func (s *Server) Launch(req Request) (*Case, error) {
	if startupKey(req.Env) != s.startup {
		return nil, ErrStartupEnv
	}
	if req.Dir == "" {
		var err error
		if req.Dir, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("executor: %w", err)
		}
	}
	c := &Case{started: make(chan error, 1), done: make(chan struct{})}
	stdout, stderr, err := c.files(req)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	// Our pipes' write ends are the case's now; the caller's files stay its own.
	if req.Stdout == nil {
		defer stdout.Close()
	}
	if req.Stderr == nil {
		defer stderr.Close()
	}
	msg := request(req)
	if len(msg) > maxRequest-32 {
		c.closeReaders()
		return nil, fmt.Errorf("executor: request of %d bytes is too large", len(msg))
	}

	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		c.closeReaders()
		return nil, s.err
	}
	s.nextID++
	id := s.nextID
	s.cases[id] = c
	s.mu.Unlock()

	msg = append([]byte(strconv.FormatUint(id, 10)+"\x00"), msg...)
	// Fd also makes them blocking, as os/exec does for a child's files: a
	// write to a full pipe must block, not fail.
	rights := syscall.UnixRights(int(stdout.Fd()), int(stderr.Fd()))
	if _, _, err := s.conn.WriteMsgUnix(msg, rights, nil); err != nil {
		s.forget(id)
		c.closeReaders()
		return nil, fmt.Errorf("executor %s: send: %w", s.Python, err)
	}
	if err := <-c.started; err != nil {
		c.closeReaders()
		return nil, err
	}
	return c, nil
}

// files returns the case's fd 1 and 2: the request's, or the write ends of
// new pipes whose read ends become c.Stdout and c.Stderr.
func (c *Case) files(req Request) (stdout, stderr *os.File, err error) {
	stdout, stderr = req.Stdout, req.Stderr
	if stdout == nil {
		if c.Stdout, stdout, err = os.Pipe(); err != nil {
			return nil, nil, err
		}
	}
	if stderr == nil {
		if c.Stderr, stderr, err = os.Pipe(); err != nil {
			if req.Stdout == nil {
				stdout.Close()
			}
			c.closeReaders()
			return nil, nil, err
		}
	}
	return stdout, stderr, nil
}

func (c *Case) closeReaders() {
	for _, f := range []*os.File{c.Stdout, c.Stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// request encodes req as server.py reads it: CWD, NARGS, ARGV..., ENV...
func request(req Request) []byte {
	fields := []string{req.Dir, strconv.Itoa(1 + len(req.Args)), req.Program}
	fields = append(fields, req.Args...)
	fields = append(fields, req.Env...)
	return []byte(strings.Join(fields, "\x00"))
}

// read dispatches the server's messages until it goes away.
func (s *Server) read() {
	buf := make([]byte, 4096)
	var err error
	for {
		var n int
		n, _, _, _, err = s.conn.ReadMsgUnix(buf, nil)
		if err != nil || n == 0 {
			break
		}
		s.dispatch(string(buf[:n]))
	}
	<-s.exited
	why := fmt.Errorf("executor %s: server %d is gone (%v, %v): %s", s.Python, s.Pid, err, s.cmd.ProcessState, s.out.String())
	s.mu.Lock()
	if s.err == nil {
		s.err = why
	}
	cases := s.cases
	s.cases = map[uint64]*Case{}
	s.mu.Unlock()
	for _, c := range cases {
		select {
		case c.started <- s.err: // not started yet
		default:
		}
		c.err = s.err
		close(c.done)
	}
	close(s.gone)
}

// dispatch handles "S ID PID", "F ID WHY" and "X ID STATUS".
func (s *Server) dispatch(msg string) {
	f := strings.SplitN(msg, " ", 3)
	if len(f) < 3 {
		return
	}
	id, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return
	}
	s.mu.Lock()
	c := s.cases[id]
	s.mu.Unlock()
	if c == nil {
		return
	}
	switch f[0] {
	case "S":
		c.Pid, _ = strconv.Atoi(f[2])
		c.started <- nil
	case "F":
		s.forget(id)
		c.started <- fmt.Errorf("executor %s: %s", s.Python, f[2])
	case "X":
		st, _ := strconv.Atoi(f[2])
		s.forget(id)
		c.status = syscall.WaitStatus(st)
		close(c.done)
	}
}

func (s *Server) forget(id uint64) {
	s.mu.Lock()
	delete(s.cases, id)
	s.mu.Unlock()
}

// Err is nil while the server serves, and says why once it is gone.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close stops the server: it kills and reaps every case still running (and
// what they forked), then exits; if it does not within closeWait, it is
// killed. Close returns once the server is reaped.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		if s.err == nil {
			s.err = fmt.Errorf("executor %s: closed", s.Python)
		}
		s.mu.Unlock()
		s.conn.CloseWrite() // the server reads EOF: it kills its cases' groups and reaps
		select {
		case <-s.exited:
		case <-time.After(closeWait):
			syscall.Kill(-s.Pid, syscall.SIGKILL)
			<-s.exited
		}
		s.conn.Close()
	})
	<-s.exited
	return nil
}

// startupKey is the part of an environment that the interpreter reads at
// start-up: a case may only run on a server started with the same.
func startupKey(env []string) string {
	var keep []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "PYTHON") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			keep = append(keep, kv)
		}
	}
	slices.Sort(keep)
	return strings.Join(keep, "\x00")
}
