package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// usages holds each command's usage text, printed by --help.
var usages = map[*flag.FlagSet]string{}

// newFlags returns a FlagSet for a command; --help prints usage (what the
// command does) and then its flags, to stdout.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // parseFlags decides what to print
	usages[fs] = usage
	return fs
}

// printUsage prints a command's usage text and its flags.
func printUsage(fs *flag.FlagSet) {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		fmt.Fprintf(os.Stdout, "%s\n\nFlags: none\n", strings.TrimSpace(usages[fs]))
		return
	}
	fmt.Fprintf(os.Stdout, "%s\n\nFlags:\n", strings.TrimSpace(usages[fs]))
	fs.SetOutput(os.Stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFlags parses args; it returns (code, false) when the command must stop:
// exitOK after --help, exitUsage after a bad flag (with a one-line error).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	if err == nil {
		return 0, true
	}
	if errors.Is(err, flag.ErrHelp) {
		printUsage(fs)
		return exitOK, false
	}
	fmt.Fprintf(os.Stderr, "forkfuzz %s: %v (run 'forkfuzz %s --help')\n", fs.Name(), err, fs.Name())
	return exitUsage, false
}

// parseInterspersed parses flags given before, between or after the
// arguments ("replay corpus/ --junit r.xml", as CI lines are written) and
// returns the arguments; the flag package alone stops at the first argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var rest []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return rest, 0, true
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// executorUsage is the help text of --executor, on every command that runs
// fork-method executions.
const executorUsage = "run fork-method executions by forking a pre-started interpreter (false: a fresh one each)"

// startExecutor returns the persistent executor when on (nil runs a fresh
// interpreter per execution), and how to stop it.
func startExecutor(ctx context.Context, on bool) (*executor.Pool, func()) {
	if !on {
		return nil, func() {}
	}
	p := executor.NewPool(ctx)
	p.Say = func(msg string) { fmt.Fprintln(os.Stderr, "forkfuzz: "+msg) }
	return p, func() { p.Close() }
}

// saySkipped tells on stderr which interpreters were skipped and why, leaving
// out duplicates and inactive pyenv shims, whose interpreter was found anyway
// (`forkfuzz pythons` lists every one).
func saySkipped(cmd string, skipped []python.Skipped) {
	for _, s := range skipped {
		if strings.HasPrefix(s.Reason, "same as") || strings.HasPrefix(s.Reason, "pyenv shim") {
			continue
		}
		fmt.Fprintf(os.Stderr, "forkfuzz %s: skipped %s: %s\n", cmd, s.Path, s.Reason)
	}
}

// listFlag is a repeatable, comma-separated flag value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// interruptContext is cancelled by the first SIGINT or SIGTERM, so that work in
// progress stops, kills the process trees it started and keeps what it found.
// A second signal exits at once (after killing the trees).
func interruptContext(onForce func()) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig, ok := <-ch
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "\nforkfuzz: %v: stopping, killing every process started, keeping what was found\n", sig)
		cancel()
		if _, ok := <-ch; ok {
			onForce()
			fmt.Fprintln(os.Stderr, "forkfuzz: stopped")
			os.Exit(130)
		}
	}()
	return ctx, func() { signal.Stop(ch); close(ch); cancel() }
}

// isTerminal reports whether f is a terminal (for progress lines).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// errorf prints one error line of a command: "forkfuzz CMD: ...".
func errorf(cmd, format string, a ...any) {
	fmt.Fprintf(os.Stderr, "forkfuzz %s: %s\n", cmd, fmt.Sprintf(format, a...))
}

// listed is ": a, b" for a usage error that names what it was given.
func listed(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return ": " + strings.Join(args, ", ")
}

// plural is "1 case", "2 cases", "3 entries".
func plural(n int, one string) string {
	switch {
	case n == 1:
		return fmt.Sprintf("1 %s", one)
	case strings.HasSuffix(one, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(one, "y"))
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// plainErr is "PATH: no such file or directory" for an error about a file,
// without the operation ("open", "stat") that the user did not ask for.
func plainErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// sayScenarioError prints why a scenario did not load: its problems as the
// FILE:LINE:COL lines they are (editors jump to them), anything else (a
// missing or unreadable file) as one line of the command's.
func sayScenarioError(cmd string, err error) {
	var es scenario.Errors
	if errors.As(err, &es) {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	errorf(cmd, "%s", plainErr(err))
}

// checkOutput says why the file that option opt names cannot be written, or
// nil. Commands call it before any run, so that a bad path costs a second,
// not a campaign; it creates and truncates nothing, so a run that fails later
// leaves no empty report behind.
func checkOutput(opt, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s %s: is a folder, want a file", opt, path)
	}
	return checkFolder(opt, path, filepath.Dir(path))
}

// checkOutputFolder is checkOutput for a folder created when first written
// to (a corpus): it, or else its nearest existing parent, must be a folder
// we can write in.
func checkOutputFolder(opt, path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Clean(path)
	for {
		_, err := os.Stat(dir)
		parent := filepath.Dir(dir)
		missing := errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
		if !missing || parent == dir {
			return checkFolder(opt, path, dir)
		}
		dir = parent
	}
}

// checkFolder says why path, of option opt, cannot be written in dir.
func checkFolder(opt, path, dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s %s: folder %s does not exist", opt, path, dir)
	case err != nil:
		return fmt.Errorf("%s %s: %s", opt, path, plainErr(err))
	case !st.IsDir():
		return fmt.Errorf("%s %s: %s is not a folder", opt, path, dir)
	}
	const wOK = 2 // W_OK of access(2)
	if err := syscall.Access(dir, wOK); err != nil {
		return fmt.Errorf("%s %s: cannot write in %s: %v", opt, path, dir, err)
	}
	return nil
}
