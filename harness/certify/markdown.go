package certify

import (
	"fmt"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Markdown formats the certificate. It computes nothing that needs a run:
// the same Certificate always gives the same text.
func (c *Certificate) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Fork deadlock certificate: %s\n\n", c.Scenario)
	b.WriteString(c.Summary() + "\n\n")
	from := "the scenario"
	if c.Source != "" {
		from = "`" + c.Source + "`"
	}
	fmt.Fprintf(&b, "Program: `%s`, rendered from %s (at the end; it runs with a plain `python3`). "+
		"Runs per cell: %d.\n", c.Program, from, c.Runs)
	if c.About != "" {
		fmt.Fprintf(&b, "\n> %s\n", strings.Join(strings.Fields(c.About), " "))
	}
	c.matrix(&b)
	c.holderSection(&b)
	c.blockedSection(&b)
	c.mitigations(&b)
	c.otherChecks(&b)
	fmt.Fprintf(&b, "\n## The minimal program\n\n`python3 %s --start-method fork` runs it as the matrix's fork column did; "+
		"`--start-method spawn` or `forkserver` as the others. With `FORKFUZZ_TRACE=1` it reports each step on stderr.\n\n",
		c.Program)
	fmt.Fprintf(&b, "```python\n%s\n```\n", strings.TrimRight(c.Code, "\n"))
	return b.String()
}

// text is a cell for a person: "deadlock (child)", or "deadlock 2/3, ok 1/3".
func (c *Cell) text() string {
	if c == nil || len(c.Verdicts) == 0 {
		return "not run"
	}
	counts := map[scenario.Verdict]int{}
	for _, v := range c.Verdicts {
		counts[v]++
	}
	var parts []string
	for _, v := range scenario.Verdicts {
		if n := counts[v]; n > 0 && len(counts) == 1 && n == len(c.Verdicts) && n == 1 {
			parts = append(parts, string(v))
		} else if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d/%d", v, n, len(c.Verdicts)))
		}
	}
	s := strings.Join(parts, ", ")
	if c.Where != "" {
		s += " (" + c.Where + ")"
	}
	return s
}

func (c *Certificate) matrix(b *strings.Builder) {
	b.WriteString("\n## Verdicts\n\n")
	b.WriteString("Python version x start method, from real runs; the last column is the fork start method with every " +
		"resource re-created in the child by `os.register_at_fork(after_in_child=...)`. A deadlock is proved from " +
		"/proc (a process whose every thread waits on a private futex with no timeout), not assumed from a timeout.\n\n")
	b.WriteString("| Python | fork | spawn | forkserver | fork + re-init at fork |\n|---|---|---|---|---|\n")
	for _, py := range c.Pythons {
		fmt.Fprintf(b, "| %s", py)
		for _, m := range append(append([]string{}, scenario.Methods...), MethodReinit) {
			cell := c.Cell(py, m)
			t := cell.text()
			if cell.any(scenario.Deadlock) {
				t = "**" + t + "**"
			}
			fmt.Fprintf(b, " | %s", t)
		}
		b.WriteString(" |\n")
	}
}

func (c *Certificate) holderSection(b *strings.Builder) {
	b.WriteString("\n## The holder\n\n")
	if len(c.Holders) == 0 {
		fmt.Fprintf(b, "No thread held a resource at the fork (%s).\n", c.atCode(c.Fork))
		return
	}
	b.WriteString("What each thread held at the moment of the fork (every thread is parked at a fixed step, so this is " +
		"the same on every run):\n\n| thread | resource | how | at |\n|---|---|---|---|\n")
	for _, h := range c.Holders {
		fmt.Fprintf(b, "| `%s` | `%s` (%s) | %s | %s, %s |\n", h.Thread, h.Resource, h.Kind, holding(h), c.at(h.Site), h.Site.Step)
	}
	fmt.Fprintf(b, "\nThe parent forked at %s, %s. ", c.atCode(c.Fork), c.Fork.Step)
	if h, ok := c.culprit(); ok && c.Blocked != nil && h.Thread != "main" {
		fmt.Fprintf(b, "`%s` does not exist in the child: fork copies only the thread that calls it, so nothing in "+
			"the child will ever release `%s`, which %s waits for.", h.Thread, h.Resource, process(c.Blocked.Where))
	} else if ok && h.Thread == "main" {
		fmt.Fprintf(b, "The forking thread held `%s` itself: the child's copy of it stays held.", h.Resource)
	}
	b.WriteString("\n")
}

func (c *Certificate) blockedSection(b *strings.Builder) {
	bl := c.Blocked
	if bl == nil {
		b.WriteString("\n## The stuck process\n\nNo run deadlocked under fork: there is no stuck process to show.\n")
		return
	}
	fmt.Fprintf(b, "\n## The %s\n\n", strings.TrimPrefix(process(bl.Where), "the "))
	fmt.Fprintf(b, "On Python %s, %s blocked at %s, %s.", bl.Python, process(bl.Where), c.atCode(bl.Site), bl.Site.Step)
	if bl.Proof != "" {
		fmt.Fprintf(b, " Proof from /proc: %s", bl.Proof)
		if bl.DetectMS > 0 {
			fmt.Fprintf(b, " (%.1f ms after the block)", bl.DetectMS)
		}
		b.WriteString(".")
	}
	if len(bl.Passed) > 0 {
		fmt.Fprintf(b, " Before that it completed %s: what those steps used was still usable in it.", list(bl.Passed))
	}
	b.WriteString(" Its Python stack (faulthandler, on SIGUSR1), innermost first, with each line of the program " +
		"mapped to its step:\n\n```text\n")
	width := 0
	for _, f := range bl.Frames {
		width = max(width, len(f.where()))
	}
	for _, f := range bl.Frames {
		line := fmt.Sprintf("%-*s", width, f.where())
		if f.Code != "" {
			line += "  " + f.Code
		}
		if f.Step != "" {
			line += "  <- " + f.Step
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString("```\n")
}

func (f Frame) where() string { return fmt.Sprintf("%s:%d in %s", f.File, f.Line, f.Func) }

func (c *Certificate) mitigations(b *strings.Builder) {
	b.WriteString("\n## Mitigations, checked by real runs\n\n| mitigation | result |\n|---|---|\n")
	rows := []struct{ name, method string }{
		{"the same program under `spawn`", scenario.MethodSpawn},
		{"the same program under `forkserver`", scenario.MethodForkserver},
		{"`fork`, every resource re-created in the child by `os.register_at_fork(after_in_child=...)`", MethodReinit},
	}
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", r.name, c.result(r.method))
	}
}

// result says how a mitigation did on every interpreter.
func (c *Certificate) result(method string) string {
	if f := c.failing(method); len(f) > 0 {
		return c.completes(f)
	}
	if n := len(c.Pythons); n > 1 {
		return fmt.Sprintf("completes on all %d interpreters", n)
	}
	return "completes"
}

func (c *Certificate) otherChecks(b *strings.Builder) {
	b.WriteString("\n## What the other checks would have said\n\n")
	b.WriteString("CPython 3.12+ can warn at the fork itself: `DeprecationWarning: This process (pid=N) is " +
		"multi-threaded, use of fork() may lead to deadlocks in the child.` Multiprocessing's fork context shows it only " +
		"with warnings enabled (`-W default`, `-X dev`, `PYTHONWARNINGS=default`); so each interpreter ran the fork " +
		"program once more with `PYTHONWARNINGS=default`:\n\n")
	b.WriteString("| Python | plain fork run | with PYTHONWARNINGS=default |\n|---|---|---|\n")
	var plain, dflt []string
	from := ""
	for _, w := range c.Warnings {
		fmt.Fprintf(b, "| %s | %s | %s |\n", w.Python, printed(w.Plain, w.From), printed(w.Default, w.From))
		if w.Plain {
			plain = append(plain, w.Python)
		}
		if w.Default {
			dflt = append(dflt, w.Python)
		}
		if (w.Plain || w.Default) && from == "" {
			from, _, _ = strings.Cut(w.From, ":") // its line differs between versions
		}
	}
	b.WriteString("\n")
	switch {
	case len(dflt) == 0 && len(plain) == 0:
		b.WriteString("It was printed on no interpreter tried: it would not have warned this user.")
	case len(plain) == 0:
		fmt.Fprintf(b, "A plain run printed it on no interpreter; with warnings enabled it was printed on %s (from `%s`). ",
			list(dflt), from)
	default:
		fmt.Fprintf(b, "It was printed on %s in a plain run (from `%s`). ", list(plain), from)
	}
	if len(dflt)+len(plain) > 0 {
		b.WriteString("It says the process has threads, not which lock the child will wait for, and nothing before 3.12 prints it.")
	}
	b.WriteString("\n\n")
	if len(c.Alive) <= 1 {
		b.WriteString("Only the main thread was alive at the fork: a pre-fork thread check (`threading.active_count() > 1`) " +
			"would have passed.\n")
		return
	}
	fmt.Fprintf(b, "A pre-fork thread check (`threading.enumerate()`) would have listed %d threads alive at the fork: %s. ",
		len(c.Alive), strings.Join(c.Alive, "; "))
	b.WriteString("It names threads, not what they hold: it cannot tell which one holds what the child will need.\n")
}

func printed(yes bool, from string) string {
	if !yes {
		return "not printed"
	}
	if from != "" {
		return "printed (`" + from + "`)"
	}
	return "printed"
}
