package trace

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// forkKey names one fork: the forking process and its fork number.
type forkKey struct{ pid, seq int }

// attempt is what a child did with one orphaned resource.
type attempt struct {
	at      string // where it took or tried to take it ("" if it did not)
	outcome string // see Hazard.Outcome; "" while blocked with no outcome yet
	reinit  bool   // an at-fork hook re-initialised it first: the child is safe
}

// analyze turns the records and what the run left behind into a Report.
func analyze(recs records, out outcome) *Report {
	r := &Report{ExitCode: out.exitCode, Forks: []ForkSnapshot{}, Hazards: []Hazard{}, ThreadsAtFork: []string{}}
	start, ok := recs.first(out.root, "start")
	if !ok { // the root is a wrapper (a shell, a launcher): take the first Python
		for _, pid := range recs.pids() {
			if start, ok = recs.first(pid, "start"); ok {
				break
			}
		}
	}
	r.PythonVersion = start.Version
	stdlib := start.Stdlib

	forks, index := collectForks(recs, out.stderr)
	r.Forks = forks
	children := map[forkKey]record{}
	for _, pid := range recs.pids() {
		if c, ok := recs.first(pid, "child"); ok {
			children[forkKey{c.PPID, c.Seq}] = c
			if i, ok := index[forkKey{c.PPID, c.Seq}]; ok {
				r.Forks[i].ChildPID = pid
			}
		}
	}
	proved := map[int]bool{}
	var proofs []string
	for _, ev := range out.proofs {
		proved[ev.Pid] = true
		proofs = append(proofs, ev.String())
	}
	r.Proof = strings.Join(proofs, "\n")
	r.Hazards = hazards(recs, children, index, r.Forks, proved)
	r.Stack = stacks(recs, out)

	switch {
	case len(out.proofs) > 0:
		r.Verdict, r.ExitCode = VerdictDeadlock, 1
		deadlock(r, recs, out, index, stdlib)
	case out.timedOut || out.canceled:
		r.Verdict, r.ExitCode = VerdictHang, 1
		r.Certificate = fmt.Sprintf("Hang, not proved: the program was still running after %v and no process of its tree "+
			"was proved blocked forever; the stacks of every process at the end are attached.", out.timeout)
		if out.canceled {
			r.Certificate = "Canceled before the program ended; no process of its tree was proved blocked forever."
		}
		if len(r.Hazards) > 0 {
			r.Certificate += " " + hazardSentence(r.Hazards[0])
			r.pick(r.Hazards[0])
		}
	case out.signaled:
		r.Verdict = VerdictError
		r.Certificate = fmt.Sprintf("The program was killed by signal %d.", out.exitCode-128)
	case len(recs) == 0:
		r.Verdict = VerdictError
		r.Certificate = "Not traced: no Python process loaded the trace instrumentation (not Python, or run with -I, -E " +
			"or -S, which ignore the injected PYTHONPATH or sitecustomize); nothing was checked."
	case len(r.Hazards) > 0:
		r.Verdict = VerdictHazard
		h := r.Hazards[0]
		r.pick(h)
		r.Certificate = hazardSentence(h)
		if n := len(r.Hazards); n > 1 {
			r.Certificate += fmt.Sprintf(" (%d hazards in all.)", n)
		}
	default:
		r.Verdict = VerdictOK
		if len(r.Forks) > 0 {
			r.ThreadsAtFork = r.Forks[0].alive()
			r.DeprecationWarning = r.Forks[0].DeprecationWarning
		}
	}
	if r.Verdict == VerdictError && r.ExitCode == 0 {
		r.ExitCode = 1 // nothing was checked: a CI must not take it for a pass
	}
	if r.Verdict != VerdictOK && r.Verdict != VerdictError && len(r.ThreadsAtFork) == 0 && len(r.Forks) > 0 {
		r.ThreadsAtFork = r.Forks[0].alive()
		r.DeprecationWarning = r.Forks[0].DeprecationWarning
	}
	return r
}

// pick makes hazard h the one the report's summary fields describe.
func (r *Report) pick(h Hazard) {
	r.Where, r.Resource, r.Child = h.Where, h.Resource, h.ChildAt
	r.Holder = holder(h.Held)
	for _, f := range r.Forks {
		if f.PID == h.PID && f.ChildPID == h.ChildPID {
			r.ThreadsAtFork, r.DeprecationWarning = f.alive(), f.DeprecationWarning
		}
	}
}

func holder(h Held) string {
	if h.TakenAt == "" {
		return h.Holder
	}
	return h.Holder + " at " + h.TakenAt
}

func (f ForkSnapshot) alive() []string {
	names := make([]string, 0, len(f.Threads))
	for _, t := range f.Threads {
		names = append(names, t.Name)
	}
	return names
}

var warnRe = regexp.MustCompile(`This process \(pid=(\d+)\) is multi-threaded, use of fork\(\) may lead to deadlocks`)

// collectForks builds a ForkSnapshot from every fork record, with whether the
// fork returned in the parent and whether the 3.12+ warning was shown (a
// warning record, or the warning's text on stderr with the parent's pid).
func collectForks(recs records, stderr string) ([]ForkSnapshot, map[forkKey]int) {
	warned := map[int]bool{}
	for _, m := range warnRe.FindAllStringSubmatch(stderr, -1) {
		if pid, err := strconv.Atoi(m[1]); err == nil {
			warned[pid] = true
		}
	}
	forks := []ForkSnapshot{}
	index := map[forkKey]int{}
	for _, pid := range recs.pids() {
		for _, rec := range recs[pid] {
			k := forkKey{pid, rec.Seq}
			switch rec.Ev {
			case "fork":
				f := ForkSnapshot{PID: pid, Seq: rec.Seq, Via: rec.Via, Thread: rec.Thread, Site: rec.Site,
					Threads: []ThreadAtFork{}, Held: []Held{}}
				for _, t := range rec.Threads {
					f.Threads = append(f.Threads, ThreadAtFork{Name: t.Name, At: t.At, Stack: t.Stack})
				}
				for _, it := range rec.Held {
					f.Held = append(f.Held, it.held())
				}
				f.DeprecationWarning = warned[pid] && len(f.Threads) > 1
				index[k] = len(forks)
				forks = append(forks, f)
			case "forked":
				if i, ok := index[k]; ok {
					forks[i].Completed = true
				}
			case "warning":
				if i, ok := index[k]; ok {
					forks[i].DeprecationWarning = true
				}
			}
		}
	}
	return forks, index
}

func (it recItem) held() Held {
	return Held{Resource: it.Kind, What: it.What, Holder: it.OwnerName, TakenAt: it.TakenAt, HolderAt: it.OwnerAt}
}

// attempts reads what one child did with its orphaned resources, by id.
func attempts(rs []record) map[int64]*attempt {
	m := map[int64]*attempt{}
	get := func(id int64) *attempt {
		if m[id] == nil {
			m[id] = &attempt{}
		}
		return m[id]
	}
	for _, rec := range rs {
		switch rec.Ev {
		case "attempt":
			a := get(rec.ID)
			a.at, a.outcome = rec.At, ""
		case "acquired":
			get(rec.ID).outcome = "acquired"
		case "failed":
			get(rec.ID).outcome = "timed out"
		case "released":
			get(rec.ID).outcome = "released by the child"
		case "reinit":
			get(rec.ID).reinit = true
		}
	}
	return m
}

// hazards lists, for every child, each resource held at its fork by a thread
// that does not exist there, unless an at-fork hook re-initialised it.
func hazards(recs records, children map[forkKey]record, index map[forkKey]int, forks []ForkSnapshot, proved map[int]bool) []Hazard {
	out := []Hazard{}
	keys := make([]forkKey, 0, len(children))
	for k := range children {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].pid < keys[j].pid || keys[i].pid == keys[j].pid && keys[i].seq < keys[j].seq
	})
	for _, k := range keys {
		c := children[k]
		tried := attempts(recs[c.PID])
		forkAt := ""
		if i, ok := index[k]; ok {
			forkAt = forks[i].Site
		}
		for _, it := range c.Orphans {
			h := Hazard{Held: it.held(), Where: c.Role, PID: c.PPID, ChildPID: c.PID, ForkAt: forkAt, Outcome: "not taken"}
			if a := tried[it.ID]; a != nil {
				if a.reinit && a.at == "" {
					continue
				}
				h.ChildAt, h.Outcome = a.at, a.outcome
				if h.Outcome == "" {
					h.Outcome = "blocked, not proved"
					if proved[c.PID] {
						h.Outcome = "blocked"
					}
				}
			}
			out = append(out, h)
		}
	}
	// Blocked first: they are what the report is about.
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

func rank(h Hazard) int {
	switch {
	case h.Outcome == "blocked":
		return 0
	case h.ChildAt != "":
		return 1
	}
	return 2
}

// deadlock fills the summary and the certificate for a proved deadlock.
func deadlock(r *Report, recs records, out outcome, index map[forkKey]int, stdlib string) {
	// The first proof that a fork explains; else the first one.
	pick := out.proofs[0].Pid
	for _, ev := range out.proofs {
		if _, child := recs.first(ev.Pid, "child"); child || hungFork(recs, ev.Pid) != nil {
			pick = ev.Pid
			break
		}
	}
	proof := ""
	for _, ev := range out.proofs {
		if ev.Pid == pick {
			proof = ev.String()
		}
	}
	if f := hungFork(recs, pick); f != nil {
		parentDeadlock(r, *f, out.stacks[pick], stdlib, proof)
		return
	}
	c, ok := recs.first(pick, "child")
	if !ok {
		r.Where = WhereParent
		if pick != out.root {
			r.Where = "process"
		}
		r.Child = stuckAt(out.stacks[pick], stdlib, "")
		r.Certificate = fmt.Sprintf("Deadlock (proved) in pid %d at %s, with no fork that left a resource held: "+
			"a deadlock of the program's own logic, which spawn would not cure. Proof: %s.", pick, orUnknown(r.Child), proof)
		return
	}
	r.Where = c.Role
	var h *Hazard
	for i := range r.Hazards {
		if r.Hazards[i].ChildPID == pick && (h == nil || r.Hazards[i].Outcome == "blocked") {
			h = &r.Hazards[i]
		}
	}
	childAt := stuckAt(out.stacks[pick], stdlib, forkSite(r.Forks, index, c))
	if h != nil && h.ChildAt != "" {
		childAt = h.ChildAt
	}
	r.Child = childAt
	if h == nil {
		r.Certificate = fmt.Sprintf("Deadlock (proved) in the %s (pid %d) forked by pid %d at %s: it blocks at %s, "+
			"on a resource the trace does not track (no thread held a tracked one at the fork). Proof: %s.",
			c.Role, pick, c.PPID, forkSite(r.Forks, index, c), orUnknown(childAt), proof)
		return
	}
	guess := ""
	if h.ChildAt == "" { // untracked in the child (a buffered writer): inferred
		h.ChildAt, h.Outcome = childAt, "blocked, inferred from the stack"
		guess = " (no attempt on it was recorded, so this is the likeliest cause, not a certainty)"
	}
	r.pick(*h)
	r.Certificate = fmt.Sprintf("Deadlock (proved): resource %s (%s), taken at %s by thread %s, which was at %s "+
		"when the parent (pid %d) forked at %s; %s does not exist in the %s (pid %d); the %s blocks at %s%s. Proof: %s.",
		h.What, h.Resource, orUnknown(h.TakenAt), h.Holder, orUnknown(h.HolderAt), h.PID, orUnknown(h.ForkAt),
		h.Holder, c.Role, pick, c.Role, orUnknown(childAt), guess, proof)
}

// hungFork returns the fork that pid started and never returned from.
func hungFork(recs records, pid int) *record {
	var last *record
	for i, rec := range recs[pid] {
		switch rec.Ev {
		case "fork":
			last = &recs[pid][i]
		case "forked":
			if last != nil && last.Seq == rec.Seq {
				last = nil
			}
		}
	}
	return last
}

// parentDeadlock: the parent hangs in the fork itself, in an at-fork hook
// that takes what another thread holds (logging's module lock).
func parentDeadlock(r *Report, f record, dump, stdlib, proof string) {
	r.Where, r.Child = WhereParent, f.Site
	var it *recItem
	for i := range f.Held {
		if it == nil || f.Held[i].Kind == "logging-module" {
			it = &f.Held[i]
		}
	}
	r.ThreadsAtFork = f.Alive
	if it == nil {
		r.Certificate = fmt.Sprintf("Deadlock (proved) in the parent (pid %d), inside its fork at %s, with no tracked "+
			"resource held by another thread. Proof: %s.", f.PID, f.Site, proof)
		return
	}
	h := it.held()
	r.Resource, r.Holder = h.Resource, holder(h)
	r.Certificate = fmt.Sprintf("Deadlock (proved) in the parent: resource %s (%s), taken at %s by thread %s, which was "+
		"at %s when the parent (pid %d) forked at %s; the parent blocks in the fork itself at %s: an at-fork hook "+
		"takes the same resource, which %s never releases (stuck at %s). Proof: %s.",
		h.What, h.Resource, orUnknown(h.TakenAt), h.Holder, orUnknown(h.HolderAt), f.PID, f.Site, f.Site,
		h.Holder, orUnknown(stuckAt(dump, stdlib, "")), proof)
}

func forkSite(forks []ForkSnapshot, index map[forkKey]int, c record) string {
	if i, ok := index[forkKey{c.PPID, c.Seq}]; ok {
		return forks[i].Site
	}
	return "an unknown site"
}

func hazardSentence(h Hazard) string {
	s := fmt.Sprintf("Hazard (predicted deadlock, not proved): resource %s (%s), taken at %s by thread %s, which was "+
		"at %s when the parent (pid %d) forked at %s; %s does not exist in the %s (pid %d), where the resource stays "+
		"held",
		h.What, h.Resource, orUnknown(h.TakenAt), h.Holder, orUnknown(h.HolderAt), h.PID, orUnknown(h.ForkAt),
		h.Holder, h.Where, h.ChildPID)
	switch h.Outcome {
	case "not taken":
		return s + ": the child did not take it this time; any code in the child that takes it blocks forever."
	case "timed out":
		return s + fmt.Sprintf(": the child tried at %s and its timeout saved it.", h.ChildAt)
	case "acquired", "released by the child":
		return s + fmt.Sprintf(": the child reached it at %s (%s).", h.ChildAt, h.Outcome)
	}
	return s + fmt.Sprintf(": the child blocks at %s.", orUnknown(h.ChildAt))
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown place"
	}
	return s
}

// stacks joins the faulthandler dumps, one section per process.
func stacks(recs records, out outcome) string {
	var pids []int
	for pid := range out.stacks {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	var b strings.Builder
	for _, pid := range pids {
		role := "process"
		if c, ok := recs.first(pid, "child"); ok {
			role = c.Role
		} else if pid == out.root {
			role = "parent"
		}
		fmt.Fprintf(&b, "--- pid %d (%s) ---\n%s\n", pid, role, strings.TrimRight(out.stacks[pid], "\n"))
	}
	return b.String()
}
