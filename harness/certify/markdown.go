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
	fmt.Fprintf(&b, "# %s\n\n", c.title())
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
	fmt.Fprintf(&b, "\n## The minimal program\n\n`python3 %s --start-method fork` runs it as the fork column of the "+
		"Verdicts table did; `--start-method spawn` or `forkserver` as the others. With `FORKFUZZ_TRACE=1` it reports "+
		"each step on stderr.\n\n", c.Program)
	fmt.Fprintf(&b, "```python\n%s\n```\n", strings.TrimRight(c.Code, "\n"))
	return b.String()
}

// title says what the page is, as the summary's first words do: a page that
// certifies nothing is not titled a certificate.
func (c *Certificate) title() string {
	name := c.Scenario
	if c.Entry != "" {
		name = fmt.Sprintf("corpus entry %s (%s)", c.Entry, c.Scenario)
	}
	switch {
	case c.Proved:
		return "Fork deadlock certificate: " + name
	case len(c.pythonsWhere(scenario.MethodFork, scenario.Deadlock)) > 0:
		return "Not a fork bug: " + name
	}
	return "Nothing to certify: " + name
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
	if h, ok := c.culprit(); ok && c.inFork() {
		fmt.Fprintf(b, "\nThe parent called the fork at %s, %s, and never returned from it: %s waits for `%s`, which `%s` "+
			"holds. There is no child: the hang is in the parent, before fork() copies anything. `%s` itself stays "+
			"parked until the fork returns, so each waits for the other.\n", c.atCode(c.Fork), c.Fork.Step,
			c.forkHook(h), h.Resource, h.Thread, h.Thread)
		return
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
	if bl.InFork {
		b.WriteString("\n## The parent, stuck in its fork\n\n")
		fmt.Fprintf(b, "On Python %s, the parent itself blocked at %s, %s, inside the fork call: no child was created.",
			bl.Python, c.atCode(bl.Site), bl.Site.Step)
	} else {
		fmt.Fprintf(b, "\n## The %s\n\n", strings.TrimPrefix(process(bl.Where), "the "))
		fmt.Fprintf(b, "On Python %s, %s blocked at %s, %s.", bl.Python, process(bl.Where), c.atCode(bl.Site), bl.Site.Step)
	}
	// How soon after the block it was proved changes from run to run, and
	// a certificate should diff clean: the run's own output shows it.
	if bl.Proof != "" {
		fmt.Fprintf(b, " Proof from /proc: %s.", bl.Proof)
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
		res := c.result(r.method)
		if r.method == MethodReinit && c.reinitCannotHelp() != "" {
			res += ". It cannot help here: " + c.reinitCannotHelp()
		}
		fmt.Fprintf(b, "| %s | %s |\n", r.name, res)
	}
	if c.Hook == "" {
		return
	}
	b.WriteString("\nWhat \"re-created in the child\" means: the mitigation's copy of the program registers this hook " +
		"when it is imported, and it runs in every forked child right after the fork. It swaps each resource for a new " +
		"one (the code shows how, per kind): the child never waits for the old copy, and whatever a parent thread was " +
		"doing with it is not finished in the child.")
	if c.inFork() {
		b.WriteString(" Here it never ran: the parent hung inside the fork.")
	}
	fmt.Fprintf(b, "\n\n```python\n%s\n```\n", c.Hook)
}

// result says how a mitigation did on every interpreter.
func (c *Certificate) result(method string) string {
	if len(c.failing(method)) > 0 {
		return c.completes(method)
	}
	switch n := len(c.Pythons); n {
	case 1:
		return "completes"
	case 2:
		return "completes on both interpreters"
	default:
		return fmt.Sprintf("completes on all %d interpreters", n)
	}
}

func (c *Certificate) otherChecks(b *strings.Builder) {
	b.WriteString("\n## What the other checks would have said\n\n")
	b.WriteString("CPython 3.12+ can warn at the fork itself: `DeprecationWarning: This process (pid=N) is " +
		"multi-threaded, use of fork() may lead to deadlocks in the child.` ")
	// Where it is shown depends on how the parent forks (FACTS.md): the
	// default filters show a DeprecationWarning attributed to __main__ only.
	if c.Via == scenario.ViaOSFork {
		b.WriteString("This program calls `os.fork()` from `__main__`, which shows it by default (multiprocessing's fork " +
			"context would show it only with warnings enabled); ")
	} else {
		b.WriteString("This program forks through multiprocessing's fork context, which shows it only with warnings " +
			"enabled (`-W default`, `-X dev`, `PYTHONWARNINGS=default`): it is attributed to `multiprocessing/popen_fork.py`, " +
			"and the default filters hide a DeprecationWarning outside `__main__`; ")
	}
	b.WriteString("each interpreter ran the fork program once more with `PYTHONWARNINGS=default`:\n\n")
	b.WriteString("| Python | plain fork run | with PYTHONWARNINGS=default |\n|---|---|---|\n")
	var plain, dflt []string
	from := ""
	for _, w := range c.Warnings {
		fmt.Fprintf(b, "| %s | %s | %s |\n", w.Python, printed(w.Plain, c.Runs, w.From), printed(b2i(w.Default), 1, w.From))
		if w.Plain > 0 {
			plain = append(plain, w.Python)
		}
		if w.Default {
			dflt = append(dflt, w.Python)
		}
		if (w.Plain > 0 || w.Default) && from == "" {
			from, _, _ = strings.Cut(w.From, ":") // its line differs between versions
		}
	}
	b.WriteString("\n")
	switch {
	case len(dflt) == 0 && len(plain) == 0 && c.inFork():
		b.WriteString("It was printed on no interpreter tried: CPython prints it in the parent once fork() has returned, " +
			"and here the parent never returned from it.")
	case len(dflt) == 0 && len(plain) == 0:
		b.WriteString("It was printed on no interpreter tried: it would not have warned this user.")
	case len(plain) == 0:
		fmt.Fprintf(b, "A plain run printed it on no interpreter; with warnings enabled it was printed on %s (from `%s`). ",
			list(dflt), from)
	default:
		fmt.Fprintf(b, "It was printed on %s in a plain run (from `%s`). ", list(plain), from)
	}
	// In a parent stuck in its fork, the fork is what waits.
	waiter := "the child"
	if c.inFork() {
		waiter = "the fork"
	}
	if len(dflt)+len(plain) > 0 {
		fmt.Fprintf(b, "It says the process has threads, not which lock %s will wait for, and nothing before 3.12 prints it.", waiter)
	}
	b.WriteString("\n\n")
	if len(c.Alive) <= 1 {
		b.WriteString("Only the main thread was alive at the fork: a pre-fork thread check (`threading.active_count() > 1`) " +
			"would have passed.\n")
		return
	}
	fmt.Fprintf(b, "A pre-fork thread check (`threading.enumerate()`) would have listed %d threads alive at the fork: %s. ",
		len(c.Alive), strings.Join(c.Alive, "; "))
	fmt.Fprintf(b, "It names threads, not what they hold: it cannot tell which one holds what %s will need.\n", waiter)
}

func b2i(yes bool) int {
	if yes {
		return 1
	}
	return 0
}

// printed says whether n of runs runs printed the warning.
func printed(n, runs int, from string) string {
	if n == 0 {
		return "not printed"
	}
	s := "printed"
	if n < runs {
		s = fmt.Sprintf("printed in %d of %d runs", n, runs)
	}
	if from != "" {
		s += " (`" + from + "`)"
	}
	return s
}
