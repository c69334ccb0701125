package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/matrix"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "matrix", summary: "write the fork-safety matrix: resource kind x Python version x start method", run: matrixMain})
}

const matrixUsage = `
Usage: forkfuzz matrix [flags] [DIR...]

Runs every scenario of the library folders and every entry of the corpus
folders (default: scenarios/ and corpus/; a folder holding *.meta.yaml files,
or named corpus, is a corpus) once per interpreter and start method, and
writes a fork-safety matrix in Markdown: one row per resource kind and
scenario, one column per Python version and start method, each cell the
verdict (DL, PH, ok, hang, err, crash), and per kind what to do, derived from
the cells. --csv and --json write the same data in those forms.

Exit code 0 when the matrix was written, 2 for bad usage or input, 1 when
interrupted (nothing is written then).`

func matrixMain(args []string) int {
	fs := newFlags("matrix", matrixUsage)
	var pythons, methods listFlag
	fs.Var(&pythons, "python", "interpreters: versions, paths, or all; repeatable (default all)")
	fs.Var(&methods, "method", "start `methods`, comma-separated (default fork,spawn,forkserver)")
	out := fs.String("o", "matrix.md", "write the Markdown matrix to `FILE`")
	csvFile := fs.String("csv", "", "also write the cells as CSV to `FILE`")
	jsonFile := fs.String("json", "", "also write the matrix as JSON to `FILE`")
	jobs := fs.Int("jobs", runtime.NumCPU(), "executions in parallel")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on an execution without proof after `DUR` (verdict hang)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	meths, err := parseMethods(methods)
	if err != nil {
		errorf("matrix", "%v", err)
		return exitUsage
	}
	if *jobs < 1 || *timeout <= 0 {
		errorf("matrix", "--jobs and --timeout must be positive")
		return exitUsage
	}
	for _, o := range []struct{ opt, path string }{{"-o", *out}, {"--csv", *csvFile}, {"--json", *jsonFile}} {
		if err := checkOutput(o.opt, o.path); err != nil {
			errorf("matrix", "%v", err)
			return exitUsage
		}
	}
	if len(pythons) == 0 {
		pythons = listFlag{"all"}
	}
	dirs, explicit := fs.Args(), fs.NArg() > 0
	if !explicit {
		dirs = []string{"scenarios", "corpus"}
	}
	tmp, cleanup, err := guard.TempDir("forkfuzz-matrix-")
	if err != nil {
		errorf("matrix", "%v", err)
		return exitUsage
	}
	defer cleanup()
	cases, bad := matrixCases(dirs, explicit, tmp)
	if bad > 0 || len(cases) == 0 {
		if len(cases) == 0 {
			errorf("matrix", "no scenarios or corpus entries in %s", strings.Join(dirs, ", "))
		}
		return exitUsage
	}
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	found, skipped, err := python.Resolve(ctx, pythons)
	if err != nil {
		errorf("matrix", "%v", err)
		return exitUsage
	}
	saySkipped("matrix", skipped)
	total := len(cases) * len(found) * len(meths)
	fmt.Fprintf(os.Stderr, "forkfuzz matrix: %s x %s x %s = %s, %d at a time\n",
		plural(len(cases), "case"), plural(len(found), "interpreter"), plural(len(meths), "method"), plural(total, "execution"), *jobs)
	start := time.Now()
	progress := matrixProgress(total, start)
	m := matrix.Run(ctx, cases, found, meths, matrix.Options{Jobs: *jobs, Timeout: *timeout, Each: progress})
	if isTerminal(os.Stderr) {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if ctx.Err() != nil {
		errorf("matrix", "interrupted: nothing written")
		return exitMismatch
	}
	if err := writeMatrix(m, *out, *csvFile, *jsonFile); err != nil {
		errorf("matrix", "%v", err)
		return exitUsage
	}
	fmt.Fprintf(os.Stderr, "forkfuzz matrix: wrote %s in %s\n", strings.Join(nonEmpty(*out, *csvFile, *jsonFile), ", "), time.Since(start).Round(time.Millisecond))
	return exitOK
}

// matrixCases loads every folder: a corpus (entries' frozen programs) or a
// scenario library (rendered into tmp). A default folder that does not exist
// is skipped; a named one is an error.
func matrixCases(dirs []string, explicit bool, tmp string) ([]matrix.Case, int) {
	var cases []matrix.Case
	bad := 0
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			if explicit {
				errorf("matrix", "%s", plainErr(err))
				bad++
			}
			continue
		}
		if isCorpusDir(dir) {
			entries, errs := corpus.Load(dir)
			for _, err := range errs {
				errorf("matrix", "%v", err)
			}
			bad += len(errs)
			for _, e := range entries {
				c, err := matrix.FromEntry(e, tmp)
				if err != nil {
					errorf("matrix", "%v", err)
					bad++
					continue
				}
				cases = append(cases, c)
			}
			continue
		}
		scenarios, nbad := loadScenarios("matrix", []string{dir})
		bad += nbad
		for _, s := range scenarios {
			c, err := matrix.FromScenario(s, tmp)
			if err != nil {
				errorf("matrix", "%v", err)
				bad++
				continue
			}
			cases = append(cases, c)
		}
	}
	return cases, bad
}

func isCorpusDir(dir string) bool {
	metas, _ := filepath.Glob(filepath.Join(dir, "*"+corpus.MetaExt))
	return len(metas) > 0 || filepath.Base(filepath.Clean(dir)) == "corpus"
}

// matrixProgress returns the per-execution callback: on a terminal, a status
// line with what is done and how many deadlocks so far.
func matrixProgress(total int, start time.Time) func(run.Result) {
	if !isTerminal(os.Stderr) {
		return nil
	}
	var mu sync.Mutex
	done, deadlocks := 0, 0
	return func(r run.Result) {
		mu.Lock()
		defer mu.Unlock()
		done++
		if r.Verdict == scenario.Deadlock {
			deadlocks++
		}
		fmt.Fprintf(os.Stderr, "\r\033[Kmatrix: %d/%d done, %d deadlocks, %s", done, total, deadlocks, time.Since(start).Round(time.Second/10))
	}
}

// writeMatrix writes each form asked for. atomicfile's errors name the file
// already ("write FILE: ..."): they are returned as they are.
func writeMatrix(m *matrix.Matrix, md, csvFile, jsonFile string) error {
	if md != "" {
		if err := atomicfile.Write(md, m.Markdown(), 0o644); err != nil {
			return err
		}
	}
	if csvFile != "" {
		data, err := m.CSV()
		if err != nil {
			return fmt.Errorf("encode %s: %w", csvFile, err)
		}
		if err := atomicfile.Write(csvFile, data, 0o644); err != nil {
			return err
		}
	}
	if jsonFile != "" {
		data, err := m.JSON()
		if err != nil {
			return fmt.Errorf("encode %s: %w", jsonFile, err)
		}
		if err := atomicfile.Write(jsonFile, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
