package run

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// maxOutput bounds what is kept of stdout and of stderr. Reading continues
// past it (and discards) so that the program never blocks on a full pipe.
const maxOutput = 1 << 20

// traceTag starts every trace line (FORMAT.md, "What the runner reads").
var traceTag = []byte("@forkfuzz ")

// stream reads one output pipe of a run until EOF. For stderr it splits
// trace lines out as Events as they arrive, and remembers per pid its role
// and its last step event.
type stream struct {
	r       *os.File
	w       *os.File // our own write end (stderr only): sync writes a marker through it
	start   time.Time
	trace   bool
	onEvent func() // called after each event, outside the lock

	mu       sync.Mutex
	text     []byte // non-trace output, at most maxOutput
	written  int    // non-trace bytes seen, kept or not
	partial  []byte
	events   []Event
	roles    map[int]string
	lastStep map[int]time.Time
	done     chan struct{}
	syncs    int                   // markers written
	synced   map[int]chan struct{} // marker number -> closed once read
}

// tagStem starts both trace and sync lines.
var tagStem = []byte("@forkfuzz")

// syncTag marks a line that sync wrote; it never reaches the text.
var syncTag = []byte("@forkfuzz-sync ")

func newStream(r, w *os.File, start time.Time, trace bool, onEvent func()) *stream {
	s := &stream{r: r, w: w, start: start, trace: trace, onEvent: onEvent,
		roles: map[int]string{}, lastStep: map[int]time.Time{}, done: make(chan struct{}),
		synced: map[int]chan struct{}{}}
	go s.read()
	return s
}

func (s *stream) read() {
	defer close(s.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := s.r.Read(buf)
		if n > 0 {
			s.feed(buf[:n], time.Now())
		}
		if err != nil {
			if err != io.EOF && !errors.Is(err, os.ErrClosed) {
				s.feed([]byte("\nforkfuzz: read: "+err.Error()+"\n"), time.Now())
			}
			s.flush()
			return
		}
	}
}

// feed takes one chunk. Without trace parsing it is kept as is; otherwise
// complete lines are sorted into events and text.
func (s *stream) feed(b []byte, now time.Time) {
	s.mu.Lock()
	if !s.trace {
		s.keep(b)
		s.mu.Unlock()
		return
	}
	s.partial = append(s.partial, b...)
	events := 0
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := s.partial[:i+1]
		if j := bytes.Index(line, tagStem); j > 0 {
			// A trace or sync line is one write(2); a faulthandler dump line
			// is several. A tag in mid-line is a whole line that another
			// process wrote into the middle of a dump line: take it out and
			// let the dump line continue with what follows it.
			head := append([]byte(nil), line[:j]...)
			if s.sort(line[j:], now) {
				events++
			}
			s.partial = append(head, s.partial[i+1:]...)
			continue
		}
		if s.sort(line, now) {
			events++
		}
		s.partial = s.partial[i+1:]
	}
	s.partial = append([]byte(nil), s.partial...)
	s.mu.Unlock()
	if events > 0 && s.onEvent != nil {
		s.onEvent()
	}
}

// sort files one complete line: a sync marker, a trace event (it reports
// true), or text.
func (s *stream) sort(line []byte, now time.Time) bool {
	if n, ok := parseSync(line); ok {
		if c := s.synced[n]; c != nil {
			close(c)
			delete(s.synced, n)
		}
		return false
	}
	if e, ok := parseEvent(line, now); ok {
		e.AtMS = ms(now.Sub(s.start))
		s.add(e)
		return true
	}
	s.keep(line)
	return false
}

func (s *stream) flush() {
	s.mu.Lock()
	s.keep(s.partial)
	s.partial = nil
	s.mu.Unlock()
}

func (s *stream) keep(b []byte) {
	s.written += len(b)
	if room := maxOutput - len(s.text); room > 0 {
		s.text = append(s.text, b[:min(room, len(b))]...)
	}
}

func (s *stream) add(e Event) {
	s.events = append(s.events, e)
	if e.Role != "" {
		s.roles[e.Pid] = e.Role
	}
	if e.Event == "step" {
		s.lastStep[e.Pid] = e.at
	}
}

// parseEvent parses "@forkfuzz PID ROLE EVENT ARGS...".
func parseEvent(line []byte, now time.Time) (Event, bool) {
	if !bytes.HasPrefix(line, traceTag) {
		return Event{}, false
	}
	f := bytes.SplitN(bytes.TrimSpace(line[len(traceTag):]), []byte(" "), 4)
	if len(f) < 3 {
		return Event{}, false
	}
	pid, err := strconv.Atoi(string(f[0]))
	if err != nil {
		return Event{}, false
	}
	e := Event{Pid: pid, Role: string(f[1]), Event: string(f[2]), at: now}
	if len(f) == 4 {
		e.Args = string(f[3])
	}
	return e, true
}

// mark is the count of non-trace bytes seen so far: a dump that follows a
// signal starts there.
func (s *stream) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

// since returns the kept text after mark.
func (s *stream) since(mark int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mark >= len(s.text) {
		return ""
	}
	return string(s.text[mark:])
}

// sync returns once everything written to the pipe before the call has been
// read and filed: it writes a marker line through its own write end, which
// the pipe delivers after all earlier writes, and waits for the reader to
// see it (at most wait). A marker is shorter than PIPE_BUF, so it is never
// split by another writer.
func (s *stream) sync(wait time.Duration) bool {
	s.mu.Lock()
	s.syncs++
	n, c := s.syncs, make(chan struct{})
	s.synced[n] = c
	s.mu.Unlock()
	if _, err := fmt.Fprintf(s.w, "%s%d\n", syncTag, n); err != nil {
		return false
	}
	select {
	case <-c:
		return true
	case <-time.After(wait):
		return false
	}
}

func parseSync(line []byte) (int, bool) {
	if !bytes.HasPrefix(line, syncTag) {
		return 0, false
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(line[len(syncTag):])))
	return n, err == nil
}

func (s *stream) role(pid int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.roles[pid]; ok {
		return r
	}
	return "process"
}

func (s *stream) lastStepOf(pid int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.lastStep[pid]
	return t, ok
}

// snapshot returns the text and events; call after done is closed (or accept
// a partial view).
func (s *stream) snapshot() (string, []Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.text), append([]Event(nil), s.events...)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
