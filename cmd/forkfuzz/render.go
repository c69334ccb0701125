package main

import (
	"os"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "render", summary: "print the standalone Python program of a scenario", run: renderMain})
}

const renderUsage = `
Usage: forkfuzz render [-o OUT] [--reinit] FILE

Renders the scenario in FILE into a standalone Python program (3.8 or newer, no
packages) and prints it, or writes it to OUT. Run the program with
  python3 OUT --start-method fork|spawn|forkserver
Orderings in it come from handshakes (threading.Event), never from sleeps.`

func renderMain(args []string) int {
	fs := newFlags("render", renderUsage)
	out := fs.String("o", "", "write the program to `OUT` instead of stdout")
	reinit := fs.Bool("reinit", false, "re-create every resource in the child with os.register_at_fork (the mitigation)")
	files, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		errorf("render", "want exactly one scenario FILE, got %d%s (run 'forkfuzz render --help')", len(files), listed(files))
		return exitUsage
	}
	s, err := scenario.ParseFile(files[0])
	if err != nil {
		sayScenarioError("render", err)
		return exitUsage
	}
	p, err := render.Write(s, render.Options{Source: files[0], ReinitAtFork: *reinit})
	if err != nil {
		errorf("render", "%v", err)
		return exitUsage
	}
	if *out == "" {
		os.Stdout.Write(p.Source)
		return exitOK
	}
	if err := atomicfile.Write(*out, p.Source, 0o755); err != nil {
		errorf("render", "%v", err)
		return exitUsage
	}
	return exitOK
}
