package run

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/proc"
)

// Polling: a block happens right after a step event and shows in /proc about
// 0.5 ms later, so a run is polled every millisecond just after an event and
// less often the longer it stays quiet.
const (
	pollMin = time.Millisecond
	pollMax = 20 * time.Millisecond
	// pollSlope: the interval grows by 1 ms per pollSlope of quiet.
	pollSlope = 25
)

// proofOff turns the proof off, leaving the plain timeout: the benchmark's
// baseline.
var proofOff atomic.Bool

// stuck is one process proved blocked.
type stuck struct {
	pid int
	ev  proc.Evidence
}

// watched is one live run as the poller sees it.
type watched struct {
	pgid      int
	start     time.Time
	lastEvent atomic.Int64 // unix nanoseconds of the last trace event
	found     chan []stuck // receives once, then the run is dropped
	crowd     chan int     // receives the count once the tree has more than MaxProcesses, then the run is dropped

	// Owned by the poller goroutine.
	next  time.Time
	known map[int]bool // every pid seen in the tree and still alive
}

// interval is how long until the next poll of w.
func (w *watched) interval(now time.Time) time.Duration {
	last := time.Unix(0, w.lastEvent.Load())
	if last.Before(w.start) {
		last = w.start
	}
	return min(pollMin+now.Sub(last)/pollSlope, pollMax)
}

// poller runs one goroutine while any run is live and serves every run with
// one /proc scan per tick.
type poller struct {
	scanner *proc.Scanner

	mu   sync.Mutex
	runs map[*watched]bool
	wake chan struct{}
	on   bool
}

var watcher = &poller{scanner: proc.NewScanner(), runs: map[*watched]bool{}, wake: make(chan struct{}, 1)}

// watch starts polling the process group pgid.
func (p *poller) watch(pgid int, start time.Time) *watched {
	w := &watched{pgid: pgid, start: start, found: make(chan []stuck, 1), crowd: make(chan int, 1), known: map[int]bool{pgid: true}}
	p.scanner.Forget(pgid)
	p.mu.Lock()
	p.runs[w] = true
	if !p.on {
		p.on = true
		go p.loop()
	}
	p.mu.Unlock()
	p.poke()
	return w
}

// unwatch stops polling w.
func (p *poller) unwatch(w *watched) {
	p.mu.Lock()
	delete(p.runs, w)
	p.mu.Unlock()
}

// poke makes the poller recompute its schedule now (a new run, an event).
func (p *poller) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *poller) loop() {
	timer := time.NewTimer(pollMin)
	defer timer.Stop()
	for {
		next, ok := p.tick()
		if !ok {
			return
		}
		timer.Reset(time.Until(next))
		select {
		case <-timer.C:
		case <-p.wake:
		}
	}
}

// tick polls every run that is due and returns when the next one is due;
// ok is false (and the goroutine ends) when no run is left.
func (p *poller) tick() (next time.Time, ok bool) {
	now := time.Now()
	p.mu.Lock()
	if len(p.runs) == 0 {
		p.on = false
		p.mu.Unlock()
		return time.Time{}, false
	}
	// The scan covers every live run, due or not: a process seen outside
	// every watched tree is cached as foreign and not looked at again.
	var due []*watched
	groups, known := map[int]bool{}, map[int]bool{}
	for w := range p.runs {
		if !now.Before(w.next) {
			due = append(due, w)
		}
		groups[w.pgid] = true
		for pid := range w.known {
			known[pid] = true
		}
	}
	p.mu.Unlock()

	if len(due) > 0 {
		all, err := p.scanner.Scan(groups, known)
		if err == nil {
			list := make([]proc.Stat, 0, len(all))
			for _, st := range all {
				list = append(list, st)
			}
			for _, w := range due {
				p.check(w, proc.Members(list, map[int]bool{w.pgid: true}, w.known))
			}
		}
	}

	now = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	next = now.Add(pollMax)
	for w := range p.runs {
		if !now.Before(w.next) {
			w.next = now.Add(w.interval(now))
		}
		if w.next.Before(next) {
			next = w.next
		}
	}
	return next, true
}

// check tries the proof on every sleeping process of one run and reports
// every stuck one at once, the first proved first.
func (p *poller) check(w *watched, members map[int]proc.Stat) {
	known := map[int]bool{w.pgid: true}
	pids := make([]int, 0, len(members))
	for pid := range members {
		known[pid] = true
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	p.mu.Lock()
	w.known = known
	p.mu.Unlock()
	if len(members) > MaxProcesses {
		p.unwatch(w)
		w.crowd <- len(members)
		return
	}
	var found []stuck
	for _, pid := range pids {
		if proofOff.Load() {
			break
		}
		if members[pid].State != 'S' {
			continue // the leader thread runs, is a zombie, or sleeps uninterruptibly
		}
		if ev, ok, _ := proc.Blocked(pid); ok {
			found = append(found, stuck{pid: pid, ev: ev})
		}
	}
	if len(found) == 0 {
		return
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].ev.At.Before(found[j].ev.At) })
	p.unwatch(w)
	w.found <- found
}

// members returns a copy of the pids last seen in w's tree; safe after unwatch
// or from KillAll (a stale view is fine there: the group kill covers the rest).
func (p *poller) members(w *watched) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for pid := range w.known {
		pids = append(pids, pid)
	}
	return pids
}
