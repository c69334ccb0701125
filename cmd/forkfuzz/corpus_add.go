package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// corpusAdd records scenarios that are fork deadlocks (deadlock under fork,
// ok under spawn, on some interpreter) as corpus entries, with the verdicts of
// every interpreter and method. It seeds a corpus from a scenario library;
// the fuzzer adds its own findings through corpus.Write directly.
func corpusAdd(args []string) int {
	fs := newFlags("corpus", corpusAddUsage)
	var pythons listFlag
	fs.Var(&pythons, "python", "interpreter: a version (3.12), a path, or all; repeatable (default: python3 on PATH)")
	dst := fs.String("o", "corpus", "corpus `DIR` to add to")
	jobs := fs.Int("jobs", runtime.NumCPU(), "executions in parallel")
	files, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		errorf("corpus", "add wants scenario files or folders (run 'forkfuzz corpus add --help')")
		return exitUsage
	}
	// Created when the first entry is written, like fuzz --corpus: what
	// would stop that must stop the command before anything runs.
	if err := checkOutputFolder("-o", *dst); err != nil {
		errorf("corpus", "add: %v", err)
		return exitUsage
	}
	scenarios, bad := loadScenarios("corpus", files)
	if len(scenarios) == 0 {
		return exitUsage
	}
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	ins, _, err := python.Resolve(ctx, pythons)
	if err != nil {
		errorf("corpus", "%v", err)
		return exitUsage
	}
	tmp, cleanup, err := guard.TempDir("forkfuzz-add-")
	if err != nil {
		errorf("corpus", "%v", err)
		return exitUsage
	}
	defer cleanup()
	added := 0
	for _, s := range scenarios {
		ok, err := addScenario(ctx, s, ins, *jobs, tmp, *dst)
		if err != nil {
			errorf("corpus", "add %s: %v", s.File, err)
			bad++
		} else if ok {
			added++
		}
		if ctx.Err() != nil {
			return exitMismatch
		}
	}
	// Nothing recorded writes nothing, not even the folder: say so.
	if added == 0 {
		fmt.Printf("fork deadlocks: 0 of %s, nothing recorded in %s\n", plural(len(scenarios), "scenario"), *dst)
	} else {
		fmt.Printf("fork deadlocks: %d of %s, recorded in %s\n", added, plural(len(scenarios), "scenario"), *dst)
	}
	if bad > 0 {
		return exitMismatch
	}
	return exitOK
}

// addScenario runs s under every method on every interpreter and writes an
// entry if it is a fork deadlock somewhere (false if not: nothing to keep).
func addScenario(ctx context.Context, s *scenario.Scenario, ins []python.Interpreter, jobs int, tmp, dst string) (bool, error) {
	p, err := render.Write(s, render.Options{})
	if err != nil {
		return false, err
	}
	// Named as the entry's program will be, so the recorded stack says ID.py.
	prog := filepath.Join(tmp, corpus.NewEntry(s, nil, signature.Signature{}, nil).ID+corpus.ProgramExt)
	if err := os.WriteFile(prog, p.Source, 0o644); err != nil {
		return false, err
	}
	var xs []run.Execution
	for _, in := range ins {
		for _, m := range scenario.Methods {
			xs = append(xs, run.Execution{Name: s.Name, Program: prog, Python: in.Path,
				PythonVersion: in.Key(), Method: m, Timeout: 10 * time.Second})
		}
	}
	rs := run.ExecuteAll(ctx, xs, jobs, nil)
	var e *corpus.Entry
	for i := 0; i < len(rs); i += len(scenario.Methods) {
		fork, spawn := rs[i], rs[i+1]
		if e != nil || fork.Verdict != scenario.Deadlock || spawn.Verdict != scenario.OK {
			continue
		}
		sig, ok := signature.Of(s, fork)
		if !ok {
			continue
		}
		e = corpus.NewEntry(s, p.Source, sig, nil)
		// Paths name the entry's own program file, not a scratch folder.
		e.Meta.Stack = strings.ReplaceAll(fork.Stack, tmp+string(filepath.Separator), "")
	}
	if e == nil {
		return false, nil
	}
	for i, r := range rs {
		e.Record(ins[i/len(scenario.Methods)].Key(), r.Method, r.Verdict)
	}
	id, err := corpus.Write(dst, e)
	if err == nil {
		fmt.Printf("%s  %s  %s\n", id, s.Name, e.Meta.Signature)
	}
	return err == nil, err
}
