package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// record is one JSON line written by the sitecustomize; ev says which fields
// are set (see the comment at the top of py/sitecustomize.py).
type record struct {
	Ev  string `json:"ev"`
	PID int    `json:"pid"`
	Seq int    `json:"seq"`

	// start
	PPID       int      `json:"ppid"`
	Version    string   `json:"version"`
	Argv       []string `json:"argv"`
	Stdlib     string   `json:"stdlib"`
	Unbuffered bool     `json:"unbuffered"`
	Sig        int      `json:"sig"` // start and child: the signal that dumps the stacks

	// fork
	Thread  string      `json:"thread"`
	Site    string      `json:"site"`
	Via     string      `json:"via"`
	Stack   []string    `json:"stack"`
	Threads []recThread `json:"threads"`
	Alive   []string    `json:"alive"`
	Held    []recItem   `json:"held"`

	// child
	Role    string    `json:"role"`
	Orphans []recItem `json:"orphans"`

	// attempt, acquired, failed, released, reinit
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	What string `json:"what"`
	At   string `json:"at"`

	// warning, error
	Text  string `json:"text"`
	Where string `json:"where"`
	Error string `json:"error"`
}

type recThread struct {
	Ident int64    `json:"ident"`
	Name  string   `json:"name"`
	At    string   `json:"at"`
	Stack []string `json:"stack"`
}

// recItem is a resource held by a thread other than the forking one.
type recItem struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	What      string `json:"what"`
	Owner     int64  `json:"owner"`
	OwnerName string `json:"owner_name"`
	TakenAt   string `json:"taken_at"`
	OwnerAt   string `json:"owner_at"`
}

// records holds every process's records, in the order each wrote them.
type records map[int][]record

// readRecords reads trace.PID.jsonl files. A line cut short (a process killed
// mid-write) is skipped; any other bad line is an error naming its file.
func readRecords(dir string) (records, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "trace.*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	recs := records{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		lines := bytes.Split(b, []byte("\n"))
		for i, line := range lines {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var r record
			if err := json.Unmarshal(line, &r); err != nil {
				if i == len(lines)-1 { // no newline yet: cut short by a kill
					continue
				}
				return nil, fmt.Errorf("read records %s:%d: %w", filepath.Base(p), i+1, err)
			}
			recs[r.PID] = append(recs[r.PID], r)
		}
	}
	return recs, nil
}

// pids lists the processes that wrote records, sorted.
func (rs records) pids() []int {
	var out []int
	for pid := range rs {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out
}

// first returns the first record of pid with event ev.
func (rs records) first(pid int, ev string) (record, bool) {
	for _, r := range rs[pid] {
		if r.Ev == ev {
			return r, true
		}
	}
	return record{}, false
}

// stuckAt reads a faulthandler dump ("File "x.py", line 9 in f" lines,
// innermost first, one block per thread) and returns the innermost frame of
// user code of the first thread that has one, skipping the standard library
// under stdlib; failing that, the first frame. A child's frame at forkAt,
// where its parent forked, is not where it blocks: below it, the innermost
// frame is. A frame in a library (site-packages) is given with the
// program's line that called it.
func stuckAt(dump, stdlib, forkAt string) string {
	var frames []string // innermost first
	for _, line := range strings.Split(dump, "\n") {
		file, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), `File "`), `", line `)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, " ")
		if _, err := strconv.Atoi(num); err != nil {
			continue
		}
		frames = append(frames, file+":"+num)
	}
	if len(frames) == 0 {
		return ""
	}
	for i, at := range frames {
		file, _, _ := strings.Cut(at, ":")
		if !isUser(file, stdlib) {
			continue
		}
		if at == forkAt && i > 0 {
			// The child's outer frames are the parent's, up to its fork: a
			// child that blocks in the standard library below them (a pool
			// worker flushing sys.stderr at exit) blocks there, not at
			// the fork.
			return frames[0]
		}
		if strings.Contains(file, "-packages") {
			// Inside a library: name the program's line that called it too.
			for _, out := range frames[i+1:] {
				f, _, _ := strings.Cut(out, ":")
				if isUser(f, stdlib) && !strings.Contains(f, "-packages") {
					return at + " (called from " + out + ")"
				}
			}
		}
		return at
	}
	return frames[0]
}

// isUser tells the program's own files from the standard library's.
func isUser(file, stdlib string) bool {
	if strings.HasPrefix(file, "<") || strings.HasSuffix(file, "/_forkfuzz_trace.py") {
		return false
	}
	return stdlib == "" || !strings.HasPrefix(file, stdlib) || strings.Contains(file, "-packages")
}
