package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/forkfuzz/forkfuzz/harness/python"
)

func init() {
	register(command{name: "pythons", summary: "list the Python interpreters found, and those skipped with why", run: pythonsMain})
}

const pythonsUsage = `
Usage: forkfuzz pythons [--json]

Lists the interpreters that scenarios can run on: python3, python3.N and
python3.Nt (free-threaded) and python on PATH, and every version under the
pyenv root (PYENV_ROOT, 'pyenv root' or ~/.pyenv). Each candidate is probed;
only CPython 3.8 or newer is used. Candidates that are not, that fail or that
are the same binary as one already listed are shown as skipped, with why.
These are what --python all means; --python 3.12 or 3.13t picks one of them.`

func pythonsMain(args []string) int {
	fs := newFlags("pythons", pythonsUsage)
	asJSON := fs.Bool("json", false, `print {"found": [...], "skipped": [...]} as JSON`)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf("pythons", "takes no arguments (run 'forkfuzz pythons --help')")
		return exitUsage
	}
	ctx, stop := interruptContext(func() {})
	defer stop()
	found, skipped := python.Discover(ctx)
	skipped = notListed(found, skipped)
	if *asJSON {
		return printPythonsJSON(found, skipped)
	}
	printPythons(found, skipped)
	return exitOK
}

func printPythonsJSON(found []python.Interpreter, skipped []python.Skipped) int {
	// Empty lists, not null, so that a consumer can always iterate.
	if found == nil {
		found = []python.Interpreter{}
	}
	if skipped == nil {
		skipped = []python.Skipped{}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"found": found, "skipped": skipped}); err != nil {
		errorf("pythons", "write JSON: %v", err)
		return exitUsage
	}
	return exitOK
}

func printPythons(found []python.Interpreter, skipped []python.Skipped) {
	if len(found) == 0 {
		fmt.Println("No usable Python (CPython >= 3.8) found.")
	} else {
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MINOR\tVERSION\tSOURCE\tPATH")
		for _, in := range found {
			extra := ""
			if in.Debug {
				extra = "  (debug build)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\n", in.Minor, in.Version, in.Source, in.Path, extra)
		}
		tw.Flush()
	}
	if len(skipped) > 0 {
		fmt.Printf("\nSkipped:\n")
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		for _, s := range skipped {
			fmt.Fprintf(tw, "  %s\t%s\n", s.Path, s.Reason)
		}
		tw.Flush()
	}
}

// notListed drops the skipped duplicates that are a listed interpreter: a
// pyenv shim is listed as the binary it resolves to, and that binary, found
// again under pyenv's versions, is skipped as "same as" the shim. Both lines
// would name one path as used and as skipped.
func notListed(found []python.Interpreter, skipped []python.Skipped) []python.Skipped {
	listed := map[string]bool{}
	for _, in := range found {
		listed[in.Path] = true
	}
	var out []python.Skipped
	for _, s := range skipped {
		if listed[s.Path] && strings.HasPrefix(s.Reason, "same as") {
			continue
		}
		out = append(out, s)
	}
	return out
}
