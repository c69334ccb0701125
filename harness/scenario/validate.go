package scenario

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks the rules that make a scenario runnable and meaningful,
// for scenarios built in memory (the generator, the shrinker). Parse runs
// the same checks. Errors carry positions when the scenario was parsed,
// else a path such as threads.holder[1].
func (s *Scenario) Validate() error {
	if s == nil {
		return Errors{{Msg: "no scenario"}}
	}
	l := &errorList{file: s.File}
	s.check(l)
	return l.err()
}

var (
	nameRE         = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)
	scenarioNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
)

// where a step may appear.
type where int

const (
	inThread where = 1 << iota
	inMain
	inChild
)

func (w where) String() string {
	var parts []string
	for _, x := range []struct {
		w    where
		name string
	}{{inThread, "a thread"}, {inMain, "main"}, {inChild, "the child"}} {
		if w&x.w != 0 {
			parts = append(parts, x.name)
		}
	}
	return strings.Join(parts, " or ")
}

// opRule says where an op may appear and which operand it needs.
type opRule struct {
	where    where
	operand  string // "resource", "event", "thread", "fork" or "" (exit)
	optional string // an operand it may also have (park: in resource)
}

var opRules = map[Op]opRule{
	OpTake:    {where: inThread | inMain | inChild, operand: "resource"},
	OpRelease: {where: inThread | inMain | inChild, operand: "resource"},
	OpUse:     {where: inThread | inMain | inChild, operand: "resource"},
	OpPark:    {where: inThread, operand: "event", optional: "resource"},
	OpSignal:  {where: inThread | inMain | inChild, operand: "event"},
	OpWait:    {where: inThread | inMain, operand: "event"},
	OpStart:   {where: inMain, operand: "thread"},
	OpFork:    {where: inMain, operand: "fork"},
	OpExit:    {where: inChild},
}

var opNames = "take, release, use, park, signal, wait, start, fork, exit"

// takeable are the kinds whose take holds something; reentrant are those a
// thread may take again while holding them (an RLock underneath).
var (
	takeable  = map[Kind]bool{Lock: true, RLock: true, Condition: true, Semaphore: true, Queue: true, LoggingModule: true, MPLock: true}
	reentrant = map[Kind]bool{RLock: true, Condition: true, LoggingModule: true}
)

// checker runs every semantic rule once over a scenario.
type checker struct {
	s   *Scenario
	l   *errorList
	res map[string]*Resource
	thr map[string]*Thread
}

func (s *Scenario) check(l *errorList) {
	c := &checker{s: s, l: l, res: map[string]*Resource{}, thr: map[string]*Thread{}}
	c.header()
	if !c.limits() {
		// The other checks are not meant for inputs this large (some are
		// quadratic); a scenario over a limit is refused on that alone.
		return
	}
	c.resources()
	c.threads()
	for i := range s.Threads {
		t := &s.Threads[i]
		c.list("threads."+t.Name, t.Steps, inThread)
	}
	c.list("main", s.Main, inMain)
	for i, st := range s.Main {
		if st.Op == OpFork && st.Fork != nil {
			c.list(fmt.Sprintf("main[%d].fork.child", i), st.Fork.Child, inChild)
		}
	}
	c.forkOnce()
	c.starts()
	c.events()
	c.expect()
}

// limits checks the sizes (limits.go) and reports whether all are met.
func (c *checker) limits() bool {
	s, n := c.s, len(c.l.errs)
	if len(s.Resources) > MaxResources {
		c.l.add("resources", s.Pos, "%d resources, more than the limit of %d (MaxResources)", len(s.Resources), MaxResources)
	}
	if len(s.Threads) > MaxThreads {
		c.l.add("threads", s.Pos, "%d threads, more than the limit of %d (MaxThreads)", len(s.Threads), MaxThreads)
	}
	total := 0
	list := func(path string, steps []Step) {
		total += len(steps)
		if len(steps) > MaxStepsPerList {
			c.l.add(path, s.Pos, "%d steps, more than the limit of %d (MaxStepsPerList)", len(steps), MaxStepsPerList)
		}
	}
	for _, t := range s.Threads {
		list("threads."+t.Name, t.Steps)
	}
	list("main", s.Main)
	for i, st := range s.Main {
		if st.Fork != nil {
			list(fmt.Sprintf("main[%d].fork.child", i), st.Fork.Child)
		}
	}
	if total > MaxSteps {
		c.l.add("", s.Pos, "%d steps in all, more than the limit of %d (MaxSteps)", total, MaxSteps)
	}
	if len(s.Expect) > MaxExpect {
		c.l.add("expect", s.Pos, "%d expect blocks, more than the limit of %d (MaxExpect)", len(s.Expect), MaxExpect)
	}
	return len(c.l.errs) == n
}

func (c *checker) header() {
	s := c.s
	switch {
	case s.Name == "":
		c.l.add("name", s.Pos, "missing scenario name")
	case !scenarioNameRE.MatchString(s.Name):
		c.l.add("name", s.Pos, "invalid scenario name %s (want [a-z][a-z0-9-]*, at most %d characters)", quote(s.Name), MaxScenarioName)
	}
	if !utf8.ValidString(s.About) {
		c.l.add("about", s.Pos, "about is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s.About); n > MaxAboutLen {
		c.l.add("about", s.Pos, "about is %d characters, more than the limit of %d (MaxAboutLen)", n, MaxAboutLen)
	}
	for _, r := range s.About {
		if (unicode.IsControl(r) && r != '\n' && r != '\t') || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			c.l.add("about", s.Pos, "about contains the control character %U (only newline and tab are allowed)", r)
			break
		}
	}
}

// name checks a resource, thread or event name.
func (c *checker) name(path, field string, pos Pos, what, name string) bool {
	switch {
	case strings.HasPrefix(name, "ff_"):
		c.l.addField(path, field, pos, "%s name %s starts with ff_, which forkfuzz reserves", what, quote(name))
	case !nameRE.MatchString(name):
		c.l.addField(path, field, pos, "invalid %s name %s (want [A-Za-z][A-Za-z0-9_]*, at most %d characters)", what, quote(name), MaxNameLen)
	default:
		return true
	}
	return false
}

// rangeMsg says which range an option accepts; v is an int, or the text
// of a number too big for one.
func rangeMsg(what string, v any, lo, hi int, limit string) string {
	return fmt.Sprintf("%s %v is out of range %d to %d (%s)", what, v, lo, hi, limit)
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func takeableList() string {
	var names []string
	for _, k := range Kinds {
		if takeable[k] {
			names = append(names, string(k))
		}
	}
	return strings.Join(names, ", ")
}

func knownKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func (c *checker) resources() {
	s := c.s
	stdout := ""
	for i := range s.Resources {
		r := &s.Resources[i]
		path := "resources." + r.Name
		c.name(path, "", r.Pos, "resource", r.Name)
		if c.res[r.Name] != nil {
			c.l.add(path, r.Pos, "duplicate resource name %s", quote(r.Name))
			continue
		}
		c.res[r.Name] = r
		switch {
		case r.Kind == "":
			c.l.addField(path, "kind", r.Pos, "resource %s has no kind", quote(r.Name))
		case !knownKind(r.Kind):
			c.l.addField(path, "kind", r.Pos, "unknown resource kind %s (want one of %s)", quote(string(r.Kind)), kindList())
		}
		if !knownKind(r.Kind) {
			continue // its options mean nothing yet
		}
		if r.Target != "" {
			switch {
			case r.Kind != BufferedWriter:
				c.l.addField(path, "target", r.Pos, "option target is only for buffered-writer, not %s", r.Kind)
			case r.Target != TargetPipe && r.Target != TargetStdout:
				c.l.addField(path, "target", r.Pos, "unknown target %s (want pipe or stdout)", quote(r.Target))
			case r.Target == TargetStdout && stdout != "":
				c.l.addField(path, "target", r.Pos, "resource %s targets stdout, as %s does; there is one stdout", quote(r.Name), quote(stdout))
			case r.Target == TargetStdout:
				stdout = r.Name
			}
		}
		if r.Workers != 0 {
			switch {
			case r.Kind != Executor:
				c.l.addField(path, "workers", r.Pos, "option workers is only for executor, not %s", r.Kind)
			case r.Workers < MinWorkers || r.Workers > MaxWorkers:
				c.l.addField(path, "workers", r.Pos, "%s", rangeMsg("workers", r.Workers, MinWorkers, MaxWorkers, "MaxWorkers"))
			}
		}
	}
}

func (c *checker) threads() {
	s := c.s
	for i := range s.Threads {
		t := &s.Threads[i]
		path := "threads." + t.Name
		c.name(path, "", t.Pos, "thread", t.Name)
		switch {
		case c.thr[t.Name] != nil:
			c.l.add(path, t.Pos, "duplicate thread name %s", quote(t.Name))
			continue
		case c.res[t.Name] != nil:
			c.l.add(path, t.Pos, "thread name %s is also a resource name", quote(t.Name))
		}
		c.thr[t.Name] = t
	}
}

// list checks one list of steps: each step, then what the thread holds
// from step to step.
func (c *checker) list(path string, steps []Step, w where) {
	for i := range steps {
		c.step(fmt.Sprintf("%s[%d]", path, i), &steps[i], w)
		if steps[i].Op == OpExit && w == inChild && i != len(steps)-1 {
			c.l.add(fmt.Sprintf("%s[%d]", path, i), steps[i].Pos, "exit must be the child's last step")
		}
	}
	if !c.l.broken(path) && !c.l.broken("resources") && knownOps(steps) {
		c.holds(path, steps, w)
	}
}

func (c *checker) step(path string, st *Step, w where) {
	rule, ok := opRules[st.Op]
	if !ok {
		c.l.add(path, st.Pos, "unknown step %s (want one of %s)", quote(string(st.Op)), opNames)
		return
	}
	if rule.where&w == 0 {
		c.l.add(path, st.Pos, "%s is not allowed in %s (only in %s)", st.Op, w, rule.where)
		return
	}
	set := map[string]bool{"resource": st.Resource != "", "event": st.Event != "", "thread": st.Thread != "", "fork": st.Fork != nil}
	for _, f := range []string{"resource", "event", "thread", "fork"} {
		switch {
		case f == rule.operand && !set[f]:
			c.l.addField(path, f, st.Pos, "%s needs %s %s", st.Op, article(f), f)
		case f != rule.operand && f != rule.optional && set[f]:
			c.l.addField(path, f, st.Pos, "%s takes no %s", st.Op, f)
		}
	}
	if st.Resource != "" && (rule.operand == "resource" || rule.optional == "resource") {
		c.resourceRef(path, st)
	}
	if st.Event != "" && rule.operand == "event" {
		c.name(path, "event", st.Pos, "event", st.Event)
	}
	if st.Thread != "" && rule.operand == "thread" && c.thr[st.Thread] == nil && !c.l.broken("threads") {
		c.l.addField(path, "thread", st.Pos, "undeclared thread %s", quote(st.Thread))
	}
	if st.Fork != nil && rule.operand == "fork" {
		c.fork(path+".fork", st.Fork)
	}
}

func (c *checker) resourceRef(path string, st *Step) {
	r := c.res[st.Resource]
	if r == nil {
		if !c.l.broken("resources") {
			c.l.addField(path, "resource", st.Pos, "undeclared resource %s", quote(st.Resource))
		}
		return
	}
	if st.Op == OpTake && knownKind(r.Kind) && !takeable[r.Kind] {
		c.l.addField(path, "resource", st.Pos, "cannot take %s: a %s cannot be taken (take works on %s)", quote(r.Name), r.Kind, takeableList())
	}
}

func (c *checker) fork(path string, f *Fork) {
	switch f.Via {
	case "":
		c.l.addField(path, "via", f.Pos, "fork needs a via (os.fork, process or pool)")
	case ViaOSFork, ViaProcess, ViaPool:
	default:
		c.l.addField(path, "via", f.Pos, "unknown via %s (want os.fork, process or pool)", quote(string(f.Via)))
	}
	for _, o := range []struct {
		name, limit string
		v, lo, hi   int
	}{{"processes", "MaxProcesses", f.Processes, MinProcesses, MaxProcesses}, {"tasks", "MaxTasks", f.Tasks, MinTasks, MaxTasks}} {
		switch {
		case o.v == 0:
		case f.Via != ViaPool && f.Via != "":
			c.l.addField(path, o.name, f.Pos, "%s is only for via: pool", o.name)
		case o.v < o.lo || o.v > o.hi:
			c.l.addField(path, o.name, f.Pos, "%s", rangeMsg(o.name, o.v, o.lo, o.hi, o.limit))
		}
	}
}

// holds follows what one thread holds from step to step: a release needs
// a hold, and taking (or using, or parking inside) a non-reentrant
// resource the thread holds would deadlock on itself.
func (c *checker) holds(path string, steps []Step, w where) {
	held := map[string]int{}
	who := map[where]string{inThread: "this thread", inMain: "main", inChild: "the child"}[w]
	for i := range steps {
		st := &steps[i]
		r := c.res[st.Resource]
		rule, ok := opRules[st.Op]
		if r == nil || !knownKind(r.Kind) || !ok || rule.where&w == 0 {
			continue
		}
		sp := fmt.Sprintf("%s[%d]", path, i)
		switch st.Op {
		case OpTake, OpUse, OpPark:
			if held[r.Name] > 0 && !reentrant[r.Kind] {
				what := map[Op]string{OpTake: "take of", OpUse: "use of", OpPark: "park inside"}[st.Op]
				c.l.addField(sp, "resource", st.Pos, "%s %s, which %s already holds: a %s is not reentrant (self-deadlock)", what, quote(r.Name), who, r.Kind)
			}
			if st.Op == OpTake && takeable[r.Kind] {
				held[r.Name]++
			}
		case OpRelease:
			if held[r.Name] == 0 {
				c.l.addField(sp, "resource", st.Pos, "release of %s, which %s does not hold here", quote(r.Name), who)
				continue
			}
			held[r.Name]--
		}
	}
}

// knownOps reports whether every op is known: what a list holds is not
// followed past a step nobody knows the meaning of.
func knownOps(steps []Step) bool {
	for _, st := range steps {
		if _, ok := opRules[st.Op]; !ok {
			return false
		}
	}
	return true
}

// forkOnce checks that main forks exactly once.
func (c *checker) forkOnce() {
	n := 0
	for i, st := range c.s.Main {
		if st.Op != OpFork {
			continue
		}
		if n++; n > 1 {
			c.l.add(fmt.Sprintf("main[%d]", i), st.Pos, "a second fork; main forks exactly once")
		}
	}
	if n == 0 && !c.l.broken("main") {
		c.l.add("main", c.s.Pos, "main has no fork step; it must fork exactly once")
	}
}

// starts checks that main starts every thread exactly once.
func (c *checker) starts() {
	started := map[string]bool{}
	for i, st := range c.s.Main {
		if st.Op != OpStart || st.Thread == "" {
			continue
		}
		if started[st.Thread] {
			c.l.addField(fmt.Sprintf("main[%d]", i), "thread", st.Pos, "thread %s is started twice", quote(st.Thread))
		}
		started[st.Thread] = true
	}
	if c.l.broken("main") {
		return
	}
	for i := range c.s.Threads {
		t := &c.s.Threads[i]
		if !started[t.Name] && c.thr[t.Name] == t {
			c.l.add("threads."+t.Name, t.Pos, "thread %s is never started", quote(t.Name))
		}
	}
}

// events checks parks and waits: every park is waited for by main before
// the fork (after its thread was started), and every wait has something
// in the parent that sets its event. A child's signal sets the child's
// copy of an event, which no parent thread sees.
func (c *checker) events() {
	type site struct {
		path   string
		pos    Pos
		thread string
	}
	parks := map[string]site{}
	sets := map[string]bool{}
	var waits []site
	var parkOrder []string
	visit := func(path, thread string, steps []Step) {
		for i, st := range steps {
			sp := fmt.Sprintf("%s[%d]", path, i)
			switch st.Op {
			case OpPark:
				if thread == "" || st.Event == "" {
					continue
				}
				if first, ok := parks[st.Event]; ok {
					c.l.addField(sp, "event", st.Pos, "event %s is already a park in thread %s; each park has its own event", quote(st.Event), quote(first.thread))
					continue
				}
				parks[st.Event] = site{sp, st.Pos, thread}
				parkOrder = append(parkOrder, st.Event)
				sets[st.Event] = true
			case OpSignal:
				sets[st.Event] = true
			case OpWait:
				if st.Event != "" {
					waits = append(waits, site{path: sp, pos: st.Pos, thread: st.Event})
				}
			}
		}
	}
	for i := range c.s.Threads {
		t := &c.s.Threads[i]
		visit("threads."+t.Name, t.Name, t.Steps)
	}
	visit("main", "", c.s.Main)
	if !c.l.broken("threads") && !c.l.broken("main") {
		for _, w := range waits {
			if !sets[w.thread] {
				c.l.addField(w.path, "event", w.pos, "wait for event %s, which no park or signal sets", quote(w.thread))
			}
		}
	}
	fork, forks := -1, 0
	for i, st := range c.s.Main {
		if st.Op == OpFork {
			fork, forks = i, forks+1
		}
	}
	if forks != 1 || c.l.broken("main") {
		return
	}
	for _, ev := range parkOrder {
		p := parks[ev]
		wait, start := -1, -1
		for i, st := range c.s.Main[:fork] {
			if st.Op == OpWait && st.Event == ev && wait < 0 {
				wait = i
			}
			if st.Op == OpStart && st.Thread == p.thread && start < 0 {
				start = i
			}
		}
		switch {
		case wait < 0:
			c.l.addField(p.path, "event", p.pos, "main never waits for park %s before the fork", quote(ev))
		case start > wait || (start < 0 && c.thr[p.thread] != nil && c.startsAnywhere(p.thread)):
			c.l.addField(fmt.Sprintf("main[%d]", wait), "event", c.s.Main[wait].Pos, "main waits for park %s before it starts thread %s", quote(ev), quote(p.thread))
		}
	}
}

func (c *checker) startsAnywhere(thread string) bool {
	for _, st := range c.s.Main {
		if st.Op == OpStart && st.Thread == thread {
			return true
		}
	}
	return false
}

func (c *checker) expect() {
	for i, e := range c.s.Expect {
		path := fmt.Sprintf("expect[%d]", i)
		if _, err := parseRange(e.Python); err != nil {
			c.l.addField(path, "python", e.Pos, "%v", err)
		}
		if len(e.Verdicts) == 0 && !c.l.broken(path) {
			c.l.add(path, e.Pos, "expect block names no start method (fork, spawn, forkserver, default)")
		}
		methods := make([]string, 0, len(e.Verdicts))
		for m := range e.Verdicts {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			v := e.Verdicts[m]
			switch {
			case !contains(AllMethods, m):
				c.l.addField(path, m, e.Pos, "unknown key %s in expect (allowed: python, %s)", quote(m), strings.Join(AllMethods, ", "))
			case !knownVerdict(v):
				c.l.addField(path, m, e.Pos, "unknown verdict %s for %s (want ok, deadlock, hang, crash or error)", quote(string(v)), m)
			}
		}
	}
}

func knownVerdict(v Verdict) bool {
	for _, x := range Verdicts {
		if x == v {
			return true
		}
	}
	return false
}

func article(word string) string {
	if strings.ContainsAny(word[:1], "aeiou") {
		return "an"
	}
	return "a"
}
