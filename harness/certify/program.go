package certify

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// program maps the rendered program's lines to the scenario's steps.
type program struct {
	s     *scenario.Scenario
	name  string   // file name, NAME.py
	lines []string // source lines
	steps map[string]render.StepLine
}

func newProgram(s *scenario.Scenario, name string, p *render.Program) *program {
	pr := &program{s: s, name: name, lines: strings.Split(string(p.Source), "\n"),
		steps: map[string]render.StepLine{}}
	for _, st := range p.Steps {
		pr.steps[stepKey(st.Who, st.Index)] = st
	}
	return pr
}

func stepKey(who string, index int) string { return who + ":" + strconv.Itoa(index) }

// code is line n of the program, trimmed ("" when out of range).
func (p *program) code(n int) string {
	if n < 1 || n > len(p.lines) {
		return ""
	}
	return strings.TrimSpace(p.lines[n-1])
}

// site is where step index of who blocks, by Program.Steps.
func (p *program) site(who string, index int) Site {
	st, ok := p.steps[stepKey(who, index)]
	if !ok {
		return Site{Step: p.label(who, index)}
	}
	return Site{Line: st.Line, Code: p.code(st.Line), Step: p.label(who, index)}
}

// label names a step for a person: "child step 0: use L".
func (p *program) label(who string, index int) string {
	st := stepOf(p.s, who, index)
	if st == nil {
		return fmt.Sprintf("%s step %d", who, index)
	}
	l := fmt.Sprintf("%s step %d: %s", who, index, st.Op)
	switch st.Op {
	case scenario.OpTake, scenario.OpRelease, scenario.OpUse:
		l += " " + st.Resource
	case scenario.OpPark:
		l += " " + st.Event
		if st.Resource != "" {
			l += " in " + st.Resource
		}
	case scenario.OpSignal, scenario.OpWait:
		l += " " + st.Event
	case scenario.OpStart:
		l += " " + st.Thread
	case scenario.OpFork:
		if st.Fork != nil {
			l += " " + string(st.Fork.Via)
		}
	}
	return l
}

// stepOf finds step index of who ("main", "child" or "thread/NAME"), or nil.
func stepOf(s *scenario.Scenario, who string, index int) *scenario.Step {
	var steps []scenario.Step
	switch {
	case who == "main":
		steps = s.Main
	case who == "child":
		if f := s.ForkStep(); f != nil {
			steps = f.Fork.Child
		}
	case strings.HasPrefix(who, "thread/"):
		if t := s.Thread(strings.TrimPrefix(who, "thread/")); t != nil {
			steps = t.Steps
		}
	}
	if index < 0 || index >= len(steps) {
		return nil
	}
	return &steps[index]
}

// traceCall matches the trace call that opens each step in the program.
var traceCall = regexp.MustCompile(`^\s*_step\("([^"]+)", (\d+),`)

// enclosing returns the step whose code holds line n: the nearest step trace
// call above it in the same function ("" when there is none).
func (p *program) enclosing(n int) string {
	for i := n - 1; i >= 0 && i < len(p.lines); i-- {
		l := p.lines[i]
		if m := traceCall.FindStringSubmatch(l); m != nil {
			idx, _ := strconv.Atoi(m[2])
			return p.label(m[1], idx)
		}
		// A step's code never crosses a function or the __main__ guard (an
		// unguarded scenario's steps are at module level, so column 0 alone
		// is no boundary).
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "class ") || strings.HasPrefix(t, "if __name__") {
			return ""
		}
	}
	return ""
}

// frames maps a stuck stack (innermost first) to the program's steps.
func (p *program) frames(fs []run.Frame) []Frame {
	out := make([]Frame, 0, len(fs))
	for _, f := range fs {
		fr := Frame{File: cleanPath(f.File), Line: f.Line, Func: f.Func}
		if filepath.Base(f.File) == p.name {
			fr.File = p.name
			fr.Code = p.code(f.Line)
			fr.Step = p.enclosing(f.Line)
		}
		out = append(out, fr)
	}
	return out
}

// cleanPath shortens a standard-library path to its part under lib/pythonX.Y,
// so that a certificate reads the same on every machine.
func cleanPath(path string) string {
	if i := strings.Index(path, "/lib/python3."); i >= 0 {
		rest := path[i+len("/lib/python3."):]
		if j := strings.Index(rest, "/"); j >= 0 {
			return rest[j+1:]
		}
	}
	return path
}

// reinitHook cuts the mitigation's hook out of its rendered program: from
// the def of the function os.register_at_fork calls to that call ("" when
// there is none). The certificate shows it so that a reader sees what
// "re-initialised" means before taking it for a fix.
func reinitHook(src []byte) string {
	lines := strings.Split(string(src), "\n")
	reg := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "os.register_at_fork(after_in_child=") {
			reg = i
		}
	}
	if reg < 0 {
		return ""
	}
	fn := strings.TrimSuffix(strings.TrimPrefix(lines[reg], "os.register_at_fork(after_in_child="), ")")
	for i := reg; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "def "+fn+"(") {
			return strings.TrimSpace(strings.Join(lines[i:reg+1], "\n"))
		}
	}
	return ""
}
