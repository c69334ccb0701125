package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/python"
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
