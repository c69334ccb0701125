package python

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// maxProbes bounds the probes run at once: pyenv shims are bash scripts
// that start several processes, and the machine may have two cores.
const maxProbes = 8

// candidate is a path that may be a Python, and where it was found.
type candidate struct {
	path   string
	source string
}

// Discover finds every usable interpreter on PATH and under pyenv, sorted by
// version, and says why each other candidate was skipped.
func Discover(ctx context.Context) ([]Interpreter, []Skipped) {
	return probeAll(ctx, discoverCandidates(ctx))
}

// pathNames are the interpreter names looked for in each PATH directory.
func pathNames() []string {
	names := []string{"python3"}
	for n := 8; n <= 20; n++ {
		names = append(names, fmt.Sprintf("python3.%d", n), fmt.Sprintf("python3.%dt", n))
	}
	return append(names, "python")
}

// discoverCandidates lists PATH candidates, then pyenv's, without duplicates.
func discoverCandidates(ctx context.Context) []candidate {
	var cands []candidate
	seen := map[string]bool{}
	add := func(path, source string) {
		if !seen[path] {
			seen[path] = true
			cands = append(cands, candidate{path, source})
		}
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue // the current directory: never run what happens to be there
		}
		dir, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		for _, name := range pathNames() {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				add(p, SourcePATH)
			}
		}
	}
	for _, p := range pyenvCandidates(ctx) {
		add(p, SourcePyenv)
	}
	return cands
}

// pyenvCandidates is <root>/versions/*/bin/python3, or bin/python where a
// version has no python3 (2.7), so that it is reported rather than ignored.
func pyenvCandidates(ctx context.Context) []string {
	dirs, _ := filepath.Glob(filepath.Join(pyenvRoot(ctx), "versions", "*", "bin"))
	var paths []string
	for _, d := range dirs {
		for _, name := range []string{"python3", "python"} {
			p := filepath.Join(d, name)
			if _, err := os.Stat(p); err == nil {
				paths = append(paths, p)
				break
			}
		}
	}
	return paths
}

// pyenvRoot is PYENV_ROOT, else what `pyenv root` says, else ~/.pyenv:
// pyenv need not be on PATH for its versions to be found.
func pyenvRoot(ctx context.Context) string {
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	if pyenv, err := exec.LookPath("pyenv"); err == nil {
		if out, err := runBounded(ctx, probeTimeout, pyenv, "root"); err == nil {
			if r := strings.TrimSpace(string(out)); filepath.IsAbs(r) {
				return r
			}
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".pyenv")
}

// probeAll probes the candidates in parallel and keeps the usable ones, one
// per real binary: the first candidate wins, so list them by source priority.
func probeAll(ctx context.Context, cands []candidate) ([]Interpreter, []Skipped) {
	type result struct {
		in  Interpreter
		err error
	}
	results := make([]result, len(cands))
	sem := make(chan struct{}, maxProbes)
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			in, err := probe(ctx, c.path)
			if err == nil {
				err = usable(in)
			}
			in.Source = c.source
			results[i] = result{in, err}
		}()
	}
	wg.Wait()

	var found []Interpreter
	var skipped []Skipped
	kept := map[string]string{} // real binary -> candidate path that found it
	for i, r := range results {
		if r.err != nil {
			skipped = append(skipped, Skipped{cands[i].path, r.err.Error()})
			continue
		}
		key := realPath(r.in.Path)
		if first, ok := kept[key]; ok {
			skipped = append(skipped, Skipped{cands[i].path, "same as " + first})
			continue
		}
		kept[key] = cands[i].path
		found = append(found, r.in)
	}
	sort.SliceStable(found, func(i, j int) bool { return less(found[i], found[j]) })
	return found, skipped
}

// realPath follows symlinks, so python3 -> python3.11 are one interpreter.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
