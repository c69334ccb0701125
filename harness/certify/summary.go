package certify

import (
	"fmt"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Summary is the certificate's opening paragraph: the root cause and its
// proof when Proved, else what happened instead.
func (c *Certificate) Summary() string {
	if !c.Proved {
		return c.notProved()
	}
	var b strings.Builder
	b.WriteString("**Proved.** ")
	h, ok := c.culprit()
	res := ""
	if c.Blocked != nil {
		res = c.Blocked.Resource
	}
	switch {
	case ok && h.Thread == "main":
		fmt.Fprintf(&b, "Resource `%s` (%s) was held by the forking thread itself, %s at %s, when the parent forked at %s; "+
			"nothing in the child releases the child's copy. ",
			h.Resource, describe(h.Kind), holding(h), c.at(h.Site), c.atCode(c.Fork))
	case ok:
		fmt.Fprintf(&b, "Resource `%s` (%s) was held by thread `%s` at %s, %s, when the parent forked at %s; "+
			"`%s` does not exist in the child. ",
			h.Resource, describe(h.Kind), h.Thread, c.at(h.Site), holding(h), c.atCode(c.Fork), h.Thread)
	case res != "":
		fmt.Fprintf(&b, "Resource `%s` was in use when the parent forked at %s. ", res, c.atCode(c.Fork))
	default:
		fmt.Fprintf(&b, "The parent forked at %s. ", c.atCode(c.Fork))
	}
	if bl := c.Blocked; bl != nil {
		fmt.Fprintf(&b, "%s blocks at %s and waits forever (its stack below)", capital(process(bl.Where)), c.atCode(bl.Site))
	} else {
		b.WriteString("The forked process blocks and waits forever")
	}
	dl := c.pythonsWhere(scenario.MethodFork, scenario.Deadlock)
	fmt.Fprintf(&b, ": proved from /proc, not by a timeout, under fork on %s. ", c.howMany(dl))
	b.WriteString(c.mitigationSentence())
	return b.String()
}

// culprit is the holder of the resource the stuck process waits for, else
// the first holder.
func (c *Certificate) culprit() (Holder, bool) {
	if c.Blocked != nil {
		for _, h := range c.Holders {
			if h.Resource == c.Blocked.Resource {
				return h, true
			}
		}
	}
	if len(c.Holders) > 0 && (c.Blocked == nil || c.Blocked.Resource == "") {
		return c.Holders[0], true
	}
	return Holder{}, false
}

// mitigationSentence says whether spawn, forkserver and re-initialising at
// fork make the same program complete.
func (c *Certificate) mitigationSentence() string {
	spawn, fs := c.failing(scenario.MethodSpawn), c.failing(scenario.MethodForkserver)
	var b strings.Builder
	if len(spawn) == 0 && len(fs) == 0 {
		b.WriteString("Under spawn and forkserver the same program completes")
	} else {
		fmt.Fprintf(&b, "Under spawn the same program %s; under forkserver it %s", c.completes(spawn), c.completes(fs))
	}
	re := c.failing(MethodReinit)
	if len(re) == 0 {
		b.WriteString("; with the resource re-initialised at fork (os.register_at_fork) it completes too.")
	} else {
		fmt.Fprintf(&b, "; with the resources re-initialised at fork (os.register_at_fork) it %s.", c.completes(re))
	}
	return b.String()
}

// completes says "completes" or which interpreters it did not complete on.
func (c *Certificate) completes(failing []string) string {
	if len(failing) == 0 {
		return "completes"
	}
	return fmt.Sprintf("does not complete on %d of %d interpreters (%s)", len(failing), len(c.Pythons), list(failing))
}

// failing lists "VERSION: VERDICTS" for every interpreter where method did
// not complete in every run.
func (c *Certificate) failing(method string) []string {
	var out []string
	for _, py := range c.Pythons {
		if cell := c.Cell(py, method); !cell.all(scenario.OK) {
			out = append(out, py+": "+cell.text())
		}
	}
	return out
}

// pythonsWhere lists the versions where some run of method gave v.
func (c *Certificate) pythonsWhere(method string, v scenario.Verdict) []string {
	var out []string
	for _, py := range c.Pythons {
		if c.Cell(py, method).any(v) {
			out = append(out, py)
		}
	}
	return out
}

// howMany is "every interpreter tried (3.8.18 to 3.13.0)" or "2 of 7
// interpreters (3.12.1 and 3.13.0)".
func (c *Certificate) howMany(pys []string) string {
	n := len(c.Pythons)
	switch {
	case len(pys) == n && n == 1:
		return "the interpreter tried (" + pys[0] + ")"
	case len(pys) == n && n == 2:
		return "both interpreters tried (" + list(pys) + ")"
	case len(pys) == n:
		return fmt.Sprintf("all %d interpreters tried (%s)", n, list(pys))
	}
	return fmt.Sprintf("%d of %d interpreters (%s)", len(pys), n, list(pys))
}

// notProved says what happened when there is no fork deadlock to certify.
func (c *Certificate) notProved() string {
	dl := c.pythonsWhere(scenario.MethodFork, scenario.Deadlock)
	if len(dl) > 0 {
		return fmt.Sprintf("**Not a fork bug.** The program deadlocked under fork on %s, but it does not complete "+
			"under spawn or forkserver there either (spawn: %s; forkserver: %s). A program that hangs under every "+
			"start method has a deadlock of its own (threads started at module level, say, which a spawn child "+
			"re-runs on import); changing the start method does not fix it, and this is not certified as a fork deadlock.",
			c.howMany(dl), orAll(c.failing(scenario.MethodSpawn)), orAll(c.failing(scenario.MethodForkserver)))
	}
	var parts []string
	for _, py := range c.Pythons {
		parts = append(parts, py+": "+c.Cell(py, scenario.MethodFork).text())
	}
	return fmt.Sprintf("**Nothing to certify.** Under fork the program did not deadlock on any interpreter tried (%s). "+
		"A deadlock is certified only when /proc proves it (a process whose every thread waits forever); "+
		"a hang without that proof is not one.", list(parts))
}

func orAll(failing []string) string {
	if len(failing) == 0 {
		return "completes everywhere"
	}
	return list(failing)
}
