// Command forkfuzz turns "our CI hangs, maybe it's fork" into a proof: it renders
// fork scenarios into standalone Python programs, runs them under every start
// method and interpreter, proves deadlocks from /proc, fuzzes and shrinks
// scenarios, replays a regression corpus and writes root-cause certificates.
//
// Usage:
//
//	forkfuzz COMMAND [flags] [args]
//
// Run `forkfuzz help` for the commands, `forkfuzz COMMAND --help` for one.
package main

import (
	"fmt"
	"os"
	"sort"
)

// Exit codes shared by every command.
const (
	exitOK       = 0 // everything matched
	exitMismatch = 1 // a verdict differed from what was expected, a deadlock was found, or interrupted
	exitUsage    = 2 // bad usage or bad input
)

// command is one subcommand. run gets the arguments after the command name and
// returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string) int
}

var commands = map[string]command{}

// register adds a subcommand; each command's file calls it from init.
func register(c command) { commands[c.name] = c }

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"--help"})
			}
		}
		usage(os.Stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "forkfuzz: unknown command %q (run 'forkfuzz help')\n", args[0])
		return exitUsage
	}
	return c.run(args[1:])
}

func usage(w *os.File) {
	fmt.Fprintln(w, "forkfuzz: prove fork deadlocks in Python programs.")
	fmt.Fprintln(w, "\nUsage: forkfuzz COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'forkfuzz COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 all verdicts as expected, 1 a verdict differed (or a deadlock was found, or interrupted), 2 bad usage or input.")
}
