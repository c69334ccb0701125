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
	case c.inFork() && ok:
		fmt.Fprintf(&b, "Resource `%s` (%s) was held by thread `%s` at %s, %s, when the parent called the fork at %s. "+
			"The parent itself hangs inside that call, before any child exists: %s waits for `%s`, which `%s` holds. ",
			h.Resource, describe(h.Kind), h.Thread, c.at(h.Site), holding(h), c.atCode(c.Fork), c.forkHook(h), h.Resource, h.Thread)
	case c.inFork():
		fmt.Fprintf(&b, "The parent itself hangs inside the fork at %s, before any child exists. ", c.atCode(c.Fork))
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
	switch bl := c.Blocked; {
	case bl != nil && bl.InFork:
		b.WriteString("The parent waits forever (its stack below)")
	case bl != nil:
		fmt.Fprintf(&b, "%s blocks at %s and waits forever (its stack below)", capital(process(bl.Where)), c.atCode(bl.Site))
	default:
		b.WriteString("The forked process blocks and waits forever")
	}
	dl := c.pythonsWhere(scenario.MethodFork, scenario.Deadlock)
	fmt.Fprintf(&b, ": proved from /proc, not by a timeout, under fork on %s. ", c.howMany(dl))
	b.WriteString(c.mitigationSentence())
	return b.String()
}

// inFork reports whether the stuck process is the parent inside its own
// fork step: it never forked, so there is no child to speak of.
func (c *Certificate) inFork() bool { return c.Blocked != nil && c.Blocked.InFork }

// forkHook says what, inside the parent's fork call, waits for h's resource:
// the at-fork hook known to take a resource of that kind, else the stuck
// stack's innermost frame.
func (c *Certificate) forkHook(h Holder) string {
	if s := atForkHook[h.Kind]; s != "" {
		return s
	}
	if c.Blocked != nil && len(c.Blocked.Frames) > 0 {
		f := c.Blocked.Frames[0]
		return fmt.Sprintf("`%s` (%s:%d), called before the fork itself,", f.Func, f.File, f.Line)
	}
	return "a call made before the fork itself"
}

// reinitCannotHelp says why the re-init mitigation failed when the parent
// hangs in its fork ("" otherwise).
func (c *Certificate) reinitCannotHelp() string {
	if !c.inFork() || len(c.failing(MethodReinit)) == 0 {
		return ""
	}
	return "an `after_in_child` hook runs in a child once the fork is done, and here the parent hangs inside the " +
		"fork, before any child exists"
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
		fmt.Fprintf(&b, "Under spawn the same program %s; under forkserver it %s",
			c.completes(scenario.MethodSpawn), c.completes(scenario.MethodForkserver))
	}
	switch {
	case len(c.failing(MethodReinit)) == 0:
		b.WriteString("; with the resource re-initialised at fork (os.register_at_fork) it completes too.")
	case c.reinitCannotHelp() != "":
		fmt.Fprintf(&b, "; with the resources re-initialised at fork (os.register_at_fork) it %s, and cannot: %s.",
			c.completes(MethodReinit), c.reinitCannotHelp())
	default:
		fmt.Fprintf(&b, "; with the resources re-initialised at fork (os.register_at_fork) it %s.", c.completes(MethodReinit))
	}
	return b.String()
}

// completes says "completes", or where and how method did not complete.
func (c *Certificate) completes(method string) string {
	failing := c.failing(method)
	if len(failing) == 0 {
		return "completes"
	}
	n := len(c.Pythons)
	if t, same := c.sameEverywhere(method); same && len(failing) == n {
		switch n {
		case 1:
			return "does not complete (" + t + ")"
		case 2:
			return "does not complete on either interpreter (" + t + " on each)"
		}
		return fmt.Sprintf("does not complete on any of the %d interpreters (%s on each)", n, t)
	}
	return fmt.Sprintf("does not complete on %d of %d interpreters (%s)", len(failing), n, list(failing))
}

// sameEverywhere is the text of method's cell when it is the same on every
// interpreter.
func (c *Certificate) sameEverywhere(method string) (string, bool) {
	text := ""
	for i, py := range c.Pythons {
		t := c.Cell(py, method).text()
		if i > 0 && t != text {
			return "", false
		}
		text = t
	}
	return text, text != ""
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
