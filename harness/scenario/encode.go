package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Marshal returns the canonical YAML form of s: forkfuzz: 1 first, keys in
// the order FORMAT.md shows them, short forms wherever they say the same
// thing, defaults left as they were given. For a valid scenario,
// Parse(Marshal(s)) equals s apart from File and Pos.
func Marshal(s *Scenario) []byte {
	if s == nil {
		return nil
	}
	root := mapping()
	add(root, "forkfuzz", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(FormatVersion)})
	add(root, "name", str(s.Name))
	if s.About != "" {
		add(root, "about", textNode(s.About))
	}
	if s.Unguarded {
		add(root, "unguarded", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if len(s.Resources) > 0 {
		rs := mapping()
		for _, r := range s.Resources {
			add(rs, r.Name, resourceNode(r))
		}
		add(root, "resources", rs)
	}
	if len(s.Threads) > 0 {
		ts := mapping()
		for _, t := range s.Threads {
			add(ts, t.Name, stepsNode(t.Steps))
		}
		add(root, "threads", ts)
	}
	add(root, "main", stepsNode(s.Main))
	if n := expectNode(s.Expect); n != nil {
		add(root, "expect", n)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		// Only a node tree this file built is encoded; should it ever
		// fail, say so in a form Parse rejects rather than return nothing.
		return []byte("# forkfuzz: cannot marshal scenario: " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n")
	}
	enc.Close()
	return b.Bytes()
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func flow(n *yaml.Node) *yaml.Node { n.Style = yaml.FlowStyle; return n }

// str makes a string scalar; the encoder quotes it when it would read back
// as something else (a number, a boolean, null).
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.ToValidUTF8(s, "\uFFFD")}
}

// textNode writes free text in the style the encoder picks (a literal
// block for several lines), unless that style does not read back as the
// same text (yaml.v3 mangles a literal block that starts with a newline,
// for one): then double-quoted, which escapes everything.
func textNode(s string) *yaml.Node {
	n := str(s)
	if !readsBack(n) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// readsBack reports whether a scalar node encodes to text that decodes to
// the same string (and as a string: a plain << reads back as a merge key).
func readsBack(n *yaml.Node) bool {
	out, err := yaml.Marshal(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("k"), n}})
	if err != nil {
		return false
	}
	var doc yaml.Node
	if yaml.Unmarshal(out, &doc) != nil || len(doc.Content) != 1 || len(doc.Content[0].Content) != 2 {
		return false
	}
	back := doc.Content[0].Content[1]
	return back.Kind == yaml.ScalarNode && back.ShortTag() == "!!str" && back.Value == n.Value
}

func integer(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func resourceNode(r Resource) *yaml.Node {
	if r.Target == "" && r.Workers == 0 {
		return str(string(r.Kind))
	}
	n := flow(mapping())
	add(n, "kind", str(string(r.Kind)))
	if r.Target != "" {
		add(n, "target", str(r.Target))
	}
	if r.Workers != 0 {
		add(n, "workers", integer(r.Workers))
	}
	return n
}

func stepsNode(steps []Step) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	if len(steps) == 0 {
		n.Style = yaml.FlowStyle
	}
	for _, st := range steps {
		n.Content = append(n.Content, stepNode(st))
	}
	return n
}

func stepNode(st Step) *yaml.Node {
	n := mapping()
	switch st.Op {
	case OpTake, OpRelease, OpUse:
		add(n, string(st.Op), str(st.Resource))
	case OpSignal, OpWait:
		add(n, string(st.Op), str(st.Event))
	case OpStart:
		add(n, string(st.Op), str(st.Thread))
	case OpPark:
		if st.Resource == "" {
			add(n, string(st.Op), str(st.Event))
			break
		}
		p := flow(mapping())
		add(p, "event", str(st.Event))
		add(p, "in", str(st.Resource))
		add(n, string(st.Op), p)
	case OpExit:
		add(n, string(st.Op), str("normal"))
	case OpFork:
		add(n, string(st.Op), forkNode(st.Fork))
	default:
		add(n, string(st.Op), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
	}
	return n
}

func forkNode(f *Fork) *yaml.Node {
	n := mapping()
	if f == nil {
		return flow(n)
	}
	add(n, "via", str(string(f.Via)))
	if f.Processes != 0 {
		add(n, "processes", integer(f.Processes))
	}
	if f.Tasks != 0 {
		add(n, "tasks", integer(f.Tasks))
	}
	if len(f.Child) > 0 {
		add(n, "child", stepsNode(f.Child))
	}
	return n
}

// expectNode writes one block for every version as a map, anything else
// as a list of blocks.
func expectNode(es []Expect) *yaml.Node {
	if len(es) == 0 {
		return nil
	}
	if len(es) == 1 && es[0].Python == "" {
		return blockNode(es[0])
	}
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, e := range es {
		n.Content = append(n.Content, blockNode(e))
	}
	return n
}

func blockNode(e Expect) *yaml.Node {
	n := mapping()
	if e.Python != "" {
		p := str(e.Python)
		p.Style = yaml.DoubleQuotedStyle // as FORMAT.md writes ranges
		add(n, "python", p)
	}
	for _, m := range AllMethods {
		if v, ok := e.Verdicts[m]; ok {
			add(n, m, str(string(v)))
		}
	}
	if len(n.Content) == 0 {
		return flow(n)
	}
	return n
}

// Hash identifies what a scenario does: the hex SHA-256 of its canonical
// form without name and about, with options at their defaults written as
// absent, so that two scenarios that differ only in wording or in spelled-
// out defaults hash the same. Corpus file names use a prefix of it.
func (s *Scenario) Hash() string {
	c := s.Clone()
	c.Name, c.About = "", ""
	for i := range c.Resources {
		r := &c.Resources[i]
		if r.Kind == BufferedWriter && r.Target == TargetPipe {
			r.Target = ""
		}
		if r.Kind == Executor && r.Workers == DefaultWorkers {
			r.Workers = 0
		}
	}
	for i := range c.Main {
		if f := c.Main[i].Fork; f != nil && f.Via == ViaPool {
			if f.Processes == DefaultProcesses {
				f.Processes = 0
			}
			if f.Tasks == DefaultTasks {
				f.Tasks = 0
			}
		}
	}
	sum := sha256.Sum256(Marshal(c))
	return hex.EncodeToString(sum[:])
}

// Clone returns a deep copy of s.
func (s *Scenario) Clone() *Scenario {
	if s == nil {
		return nil
	}
	c := *s
	c.Resources = append([]Resource(nil), s.Resources...)
	c.Threads = nil
	for _, t := range s.Threads {
		t.Steps = cloneSteps(t.Steps)
		c.Threads = append(c.Threads, t)
	}
	c.Main = cloneSteps(s.Main)
	c.Expect = nil
	for _, e := range s.Expect {
		if e.Verdicts != nil {
			vs := make(map[string]Verdict, len(e.Verdicts))
			for k, v := range e.Verdicts {
				vs[k] = v
			}
			e.Verdicts = vs
		}
		c.Expect = append(c.Expect, e)
	}
	return &c
}

func cloneSteps(steps []Step) []Step {
	if steps == nil {
		return nil
	}
	out := make([]Step, len(steps))
	for i, st := range steps {
		if st.Fork != nil {
			f := *st.Fork
			f.Child = cloneSteps(f.Child)
			st.Fork = &f
		}
		out[i] = st
	}
	return out
}
