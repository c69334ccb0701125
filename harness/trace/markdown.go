package trace

import (
	"fmt"
	"strings"
)

// Markdown renders the report for `-o report.md`: the verdict and its
// certificate first, then the hazards, the forks and the evidence.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# forkfuzz trace: %s\n\n", r.Verdict)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, strings.ReplaceAll(v, "|", `\|`))
		}
	}
	b.WriteString("| | |\n|---|---|\n")
	row("Python", r.PythonVersion)
	row("where", r.Where)
	row("resource", r.Resource)
	row("holder", r.Holder)
	row("blocks at", r.Child)
	row("exit code", fmt.Sprint(r.ExitCode))
	row("DeprecationWarning at the fork", yesNo(r.DeprecationWarning, len(r.Forks) > 0))
	row("threads alive at the fork", strings.Join(r.ThreadsAtFork, ", "))
	if r.Certificate != "" {
		fmt.Fprintf(&b, "\n## Certificate\n\n%s\n", r.Certificate)
	}
	if len(r.Hazards) > 0 {
		b.WriteString("\n## Hazards\n\n| resource | what | holder | taken at | holder at | fork at | child | child at | outcome |\n" +
			"|---|---|---|---|---|---|---|---|---|\n")
		for _, h := range r.Hazards {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s %d | %s | %s |\n", h.Resource, h.What, h.Holder,
				h.TakenAt, h.HolderAt, h.ForkAt, h.Where, h.ChildPID, h.ChildAt, h.Outcome)
		}
	}
	for _, f := range r.Forks {
		fmt.Fprintf(&b, "\n## Fork %d of pid %d (%s, thread %s, at %s)\n\n", f.Seq, f.PID, f.Via, f.Thread, f.Site)
		fmt.Fprintf(&b, "Child: %s. Returned in the parent: %s. DeprecationWarning shown: %s.\n\n",
			pidOr(f.ChildPID), yesNo(f.Completed, true), yesNo(f.DeprecationWarning, true))
		for _, h := range f.Held {
			fmt.Fprintf(&b, "- held: %s (%s) by %s, taken at %s, at %s\n", h.What, h.Resource, h.Holder, h.TakenAt, h.HolderAt)
		}
		for _, t := range f.Threads {
			fmt.Fprintf(&b, "- thread %s at %s\n", t.Name, t.At)
		}
	}
	if r.Proof != "" {
		fmt.Fprintf(&b, "\n## Proof\n\n```\n%s\n```\n", r.Proof)
	}
	if r.Stack != "" {
		fmt.Fprintf(&b, "\n## Stacks at the end\n\n```\n%s```\n", r.Stack)
	}
	return b.String()
}

func yesNo(v, known bool) string {
	switch {
	case !known:
		return ""
	case v:
		return "yes"
	}
	return "no"
}

func pidOr(pid int) string {
	if pid == 0 {
		return "none reported"
	}
	return fmt.Sprintf("pid %d", pid)
}
