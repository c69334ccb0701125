package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder turns a YAML node tree into a Scenario. It checks only shapes:
// types, keys, short forms. Everything a Scenario built in memory could get
// wrong too (unknown kinds, undeclared names, step order) is left to check,
// so that Parse and Validate share one implementation. It records the
// position of every value under its path so that check's errors point at it.
type decoder struct {
	l *errorList
}

type field struct {
	name string
	k, v *yaml.Node
}

// fail reports a shape error at n and marks path as broken so that check
// does not add consequential errors under it.
func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	d.l.bad[path] = true
	d.l.errs = append(d.l.errs, &Error{File: d.l.file, Pos: posOf(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) at(path string, n *yaml.Node) { d.l.pos[path] = posOf(n) }

// describe names what a node is, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "nothing (null)"
		}
		return "a value tagged " + n.ShortTag()
	}
	return "a document"
}

// fields checks that n is a map with string keys from allowed (nil allows
// any) and no key twice, and returns its entries in order.
func (d *decoder) fields(path string, n *yaml.Node, what string, allowed []string) []field {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "expected %s, got %s", what, describe(n))
		return nil
	}
	var out []field
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k, "expected a key, got %s", describe(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.fail(path, k, "duplicate key %s (first at line %d)", quote(k.Value), first.Line)
			continue
		}
		seen[k.Value] = k
		if allowed != nil && !contains(allowed, k.Value) {
			d.fail(join(path, k.Value), k, "unknown key %s%s (allowed: %s)", quote(k.Value), in(path), strings.Join(allowed, ", "))
			continue
		}
		out = append(out, field{k.Value, k, v})
	}
	return out
}

// in says where a key was found, for "unknown key" messages.
func in(path string) string {
	if path == "" {
		return ""
	}
	return " in " + bare(path)
}

func join(path, name string) string {
	if name == "" {
		return path
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str decodes a string scalar; what says what was expected.
func (d *decoder) str(path string, n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.fail(path, n, "expected %s, got %s", what, describe(n))
		return "", false
	}
	d.at(path, n)
	return n.Value, true
}

// wholeRE matches a whole number. yaml.v3 calls one beyond 64 bits a
// float, and one beyond float64 a string.
var wholeRE = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// integer decodes the option name, a whole number from lo to hi (limit
// names the constant). It refuses here what a Scenario cannot hold: 0
// (there, the default) and numbers beyond an int; check does the rest of
// the range.
func (d *decoder) integer(path string, n *yaml.Node, name string, lo, hi int, limit string) int {
	if n.Kind == yaml.ScalarNode && n.Style == 0 && wholeRE.MatchString(n.Value) && n.ShortTag() != "!!int" {
		d.fail(path, n, "%s", rangeMsg(name, bare(n.Value), lo, hi, limit))
		return 0
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		d.fail(path, n, "expected a number of %s (a whole number), got %s", name, quote(n.Value))
		return 0
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.fail(path, n, "expected a number of %s, got %s", name, describe(n))
		return 0
	}
	var v int64
	if err := n.Decode(&v); err != nil || v != int64(int(v)) || v == 0 {
		d.fail(path, n, "%s", rangeMsg(name, bare(n.Value), lo, hi, limit))
		return 0
	}
	d.at(path, n)
	return int(v)
}

var scenarioKeys = []string{"forkfuzz", "name", "about", "unguarded", "resources", "threads", "main", "expect"}

func (d *decoder) scenario(root *yaml.Node) *Scenario {
	s := &Scenario{Pos: posOf(root)}
	fs := d.fields("", root, "a map starting with forkfuzz: 1", scenarioKeys)
	if root.Kind != yaml.MappingNode {
		return s
	}
	version := false
	for i, f := range fs {
		switch f.name {
		case "forkfuzz":
			version = true
			switch {
			case f.v.Kind != yaml.ScalarNode || f.v.ShortTag() != "!!int":
				d.fail("forkfuzz", f.v, "expected the format version (forkfuzz: %d), got %s", FormatVersion, describe(f.v))
			case f.v.Value != strconv.Itoa(FormatVersion):
				d.fail("forkfuzz", f.v, "unsupported format version %s (supported: %d)", quote(f.v.Value), FormatVersion)
			case i != 0 || root.Content[0] != f.k:
				d.fail("forkfuzz", f.k, "forkfuzz: %d must be the first key", FormatVersion)
			}
		case "name":
			s.Name, _ = d.str("name", f.v, "a scenario name")
		case "about":
			s.About, _ = d.str("about", f.v, "a string")
		case "unguarded":
			if f.v.Kind != yaml.ScalarNode || f.v.ShortTag() != "!!bool" || f.v.Decode(&s.Unguarded) != nil {
				d.fail("unguarded", f.v, "expected true or false, got %s", describe(f.v))
			}
		case "resources":
			d.at("resources", f.k)
			s.Resources = d.resources(f.v)
		case "threads":
			d.at("threads", f.k)
			s.Threads = d.threads(f.v)
		case "main":
			d.at("main", f.k)
			s.Main = d.steps("main", f.v)
		case "expect":
			d.at("expect", f.k)
			s.Expect = d.expect(f.v)
		}
	}
	if !version {
		d.fail("forkfuzz", root, "missing forkfuzz: %d (the format version; supported: %d)", FormatVersion, FormatVersion)
	}
	return s
}

var resourceKeys = []string{"kind", "target", "workers"}

func (d *decoder) resources(n *yaml.Node) []Resource {
	var out []Resource
	for _, f := range d.fields("resources", n, "a map of resource name -> kind", nil) {
		path := "resources." + f.name
		d.at(path, f.k)
		r := Resource{Name: f.name, Pos: posOf(f.k)}
		if f.v.Kind == yaml.ScalarNode {
			kind, _ := d.str(path+".kind", f.v, "a resource kind")
			r.Kind = Kind(kind)
			out = append(out, r)
			continue
		}
		fs := d.fields(path, f.v, "a resource kind or a map {kind: ...}", resourceKeys)
		hasKind := false
		for _, o := range fs {
			switch o.name {
			case "kind":
				hasKind = true
				kind, _ := d.str(path+".kind", o.v, "a resource kind")
				r.Kind = Kind(kind)
			case "target":
				r.Target, _ = d.str(path+".target", o.v, "a target (pipe or stdout)")
			case "workers":
				r.Workers = d.integer(path+".workers", o.v, "workers", MinWorkers, MaxWorkers, "MaxWorkers")
			}
		}
		if !hasKind && f.v.Kind == yaml.MappingNode {
			d.fail(path+".kind", f.v, "resource %s has no kind", quote(f.name))
		}
		out = append(out, r)
	}
	return out
}

func (d *decoder) threads(n *yaml.Node) []Thread {
	var out []Thread
	for _, f := range d.fields("threads", n, "a map of thread name -> list of steps", nil) {
		path := "threads." + f.name
		d.at(path, f.k)
		out = append(out, Thread{Name: f.name, Steps: d.steps(path, f.v), Pos: posOf(f.k)})
	}
	return out
}

func (d *decoder) steps(path string, n *yaml.Node) []Step {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "expected a list of steps, got %s", describe(n))
		return nil
	}
	var out []Step
	for i, c := range n.Content {
		out = append(out, d.step(fmt.Sprintf("%s[%d]", path, i), c))
	}
	return out
}

var parkKeys = []string{"event", "in"}

// step decodes a one-key map. A step whose op is unknown keeps the op for
// check to report; a step whose value has the wrong shape keeps its op and
// is marked broken.
func (d *decoder) step(path string, n *yaml.Node) Step {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		if n.Kind == yaml.MappingNode {
			// At most a few keys: a hostile step can have thousands.
			var keys []string
			for i := 0; i < len(n.Content) && i < 8; i += 2 {
				keys = append(keys, quote(n.Content[i].Value))
			}
			if len(n.Content) > 8 {
				keys = append(keys, "…")
			}
			d.fail(path, n, "a step is a map with one key, got %d keys (%s)", len(n.Content)/2, strings.Join(keys, ", "))
		} else {
			d.fail(path, n, "expected a step (a map with one key, such as take: L), got %s", describe(n))
		}
		return Step{Pos: posOf(n)}
	}
	k, v := n.Content[0], n.Content[1]
	if k.Kind != yaml.ScalarNode {
		d.fail(path, k, "expected a step name, got %s", describe(k))
		return Step{Pos: posOf(n)}
	}
	st := Step{Op: Op(k.Value), Pos: posOf(k)}
	d.at(path, k)
	switch st.Op {
	case OpTake, OpRelease, OpUse:
		st.Resource, _ = d.str(path+".resource", v, "a resource name")
	case OpSignal, OpWait:
		st.Event, _ = d.str(path+".event", v, "an event name")
	case OpStart:
		st.Thread, _ = d.str(path+".thread", v, "a thread name")
	case OpPark:
		if v.Kind == yaml.ScalarNode {
			st.Event, _ = d.str(path+".event", v, "an event name or a map {event: E, in: R}")
			break
		}
		hasEvent := false
		for _, f := range d.fields(path, v, "an event name or a map {event: E, in: R}", parkKeys) {
			switch f.name {
			case "event":
				hasEvent = true
				st.Event, _ = d.str(path+".event", f.v, "an event name")
			case "in":
				st.Resource, _ = d.str(path+".resource", f.v, "a resource name")
			}
		}
		if !hasEvent && v.Kind == yaml.MappingNode {
			d.fail(path+".event", v, "park has no event")
		}
	case OpFork:
		st.Fork = d.fork(path+".fork", v)
	case OpExit:
		if s, ok := d.str(path+".exit", v, "normal"); ok && s != "normal" {
			d.fail(path+".exit", v, "exit takes normal, got %s", quote(s))
		}
	}
	return st
}

var forkKeys = []string{"via", "processes", "tasks", "child"}

func (d *decoder) fork(path string, n *yaml.Node) *Fork {
	f := &Fork{Pos: posOf(n)}
	d.at(path, n)
	for _, o := range d.fields(path, n, "a map {via: ..., child: [...]}", forkKeys) {
		switch o.name {
		case "via":
			via, _ := d.str(path+".via", o.v, "a via (os.fork, process or pool)")
			f.Via = Via(via)
		case "processes":
			f.Processes = d.integer(path+".processes", o.v, "processes", MinProcesses, MaxProcesses, "MaxProcesses")
		case "tasks":
			f.Tasks = d.integer(path+".tasks", o.v, "tasks", MinTasks, MaxTasks, "MaxTasks")
		case "child":
			d.at(path+".child", o.k)
			f.Child = d.steps(path+".child", o.v)
		}
	}
	return f
}

// expect decodes a map (one block for every version) or a list of blocks.
func (d *decoder) expect(n *yaml.Node) []Expect {
	if n.Kind == yaml.MappingNode {
		return []Expect{d.block("expect[0]", n)}
	}
	if n.Kind != yaml.SequenceNode {
		d.fail("expect", n, "expected a map of start method -> verdict, or a list of them, got %s", describe(n))
		return nil
	}
	var out []Expect
	for i, c := range n.Content {
		out = append(out, d.block(fmt.Sprintf("expect[%d]", i), c))
	}
	return out
}

// block keeps unknown keys as methods so that check reports them with the
// list of methods, as it does for a Scenario built in memory.
func (d *decoder) block(path string, n *yaml.Node) Expect {
	e := Expect{Pos: posOf(n)}
	d.at(path, n)
	for _, f := range d.fields(path, n, "a map of start method -> verdict", nil) {
		if f.name == "python" {
			if f.v.Kind == yaml.ScalarNode && (f.v.ShortTag() == "!!float" || f.v.ShortTag() == "!!int") {
				// python: 3.12 unquoted is a YAML number; its text is the range.
				e.Python = f.v.Value
				d.at(path+".python", f.v)
				continue
			}
			e.Python, _ = d.str(path+".python", f.v, "a version range")
			continue
		}
		d.at(join(path, f.name), f.k)
		v, ok := d.str(join(path, f.name), f.v, "a verdict")
		if !ok {
			continue
		}
		if e.Verdicts == nil {
			e.Verdicts = map[string]Verdict{}
		}
		e.Verdicts[f.name] = Verdict(v)
	}
	return e
}
