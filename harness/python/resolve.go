package python

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// versionSpec matches "3.12", "3.13t" and "3.12.1": a spec naming a version
// rather than a path.
var versionSpec = regexp.MustCompile(`^\d+\.\d+(\.\d+)?t?$`)

// Resolve turns --python specs into interpreters, deduplicated and ordered by
// version. Each spec may be comma-separated; none means Default; "all" means
// every discovered one; "3.12" or "3.13t" the discovered one of that minor;
// anything else is a path (or a command on PATH) that must be a working
// CPython >= 3.8. The error is one line naming the spec and why it failed.
func Resolve(ctx context.Context, specs []string) ([]Interpreter, []Skipped, error) {
	found, skipped, err := resolve(ctx, specs)
	if err != nil && ctx.Err() != nil {
		return nil, nil, interrupted(ctx)
	}
	return found, skipped, err
}

// interrupted is the error of a search stopped by ctx: every probe then
// fails, and "no CPython found" would send the user looking for a cause.
func interrupted(ctx context.Context) error {
	return fmt.Errorf("interrupted while looking for Python: %w", ctx.Err())
}

func resolve(ctx context.Context, specs []string) ([]Interpreter, []Skipped, error) {
	specs = splitSpecs(specs)
	if len(specs) == 0 {
		in, err := Default(ctx)
		if err != nil {
			return nil, nil, err
		}
		return []Interpreter{in}, nil, nil
	}
	var discovered []Interpreter
	var discoverSkips []Skipped
	discoverOnce := func() []Interpreter {
		if discovered == nil {
			discovered, discoverSkips = Discover(ctx)
			if discovered == nil {
				discovered = []Interpreter{}
			}
		}
		return discovered
	}
	var cands []Interpreter
	var skipped []Skipped
	for _, spec := range specs {
		switch {
		case spec == "all":
			cands = append(cands, discoverOnce()...)
			skipped = append(skipped, discoverSkips...)
		case versionSpec.MatchString(spec):
			in, ok := pick(discoverOnce(), spec)
			if !ok {
				return nil, nil, fmt.Errorf("no Python %s found (found: %s)", spec, minors(discovered))
			}
			cands = append(cands, in)
		default:
			in, err := probePath(ctx, spec)
			if err != nil {
				return nil, nil, err
			}
			cands = append(cands, in)
		}
	}
	found, dups := dedupe(cands)
	if len(found) == 0 {
		return nil, nil, fmt.Errorf("no CPython >= 3.8 found (%d candidates skipped; run 'forkfuzz pythons')", len(skipped))
	}
	return found, append(skipped, dups...), nil
}

// Default is python3 on PATH if it is usable, else the newest discovered.
func Default(ctx context.Context) (Interpreter, error) {
	why := "python3 is not on PATH"
	if p, err := exec.LookPath("python3"); err == nil {
		in, err := probe(ctx, p)
		if err == nil {
			err = usable(in)
		}
		if err == nil {
			in.Source = SourcePATH
			return in, nil
		}
		why = fmt.Sprintf("python3 on PATH (%s): %v", p, err)
	}
	found, skipped := Discover(ctx)
	if len(found) == 0 && ctx.Err() != nil {
		return Interpreter{}, interrupted(ctx)
	}
	if len(found) == 0 {
		return Interpreter{}, fmt.Errorf("no CPython >= 3.8 found: %s; nothing usable on PATH or under pyenv root %q (%d candidates skipped; run 'forkfuzz pythons')",
			why, pyenvRoot(ctx), len(skipped))
	}
	return newest(found), nil
}

// splitSpecs splits comma-separated specs and drops blanks.
func splitSpecs(specs []string) []string {
	var out []string
	for _, s := range specs {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// pick finds the interpreter a version spec names: its minor ("3.12",
// "3.13t") or its full version ("3.12.1", "3.13.0t"). Among several, one on
// PATH wins (it is what the user runs), then the newest.
func pick(found []Interpreter, spec string) (Interpreter, bool) {
	var best Interpreter
	ok := false
	for _, in := range found {
		if spec != in.Minor && spec != in.Key() {
			continue
		}
		if !ok || rank(in) < rank(best) || (rank(in) == rank(best) && less(best, in)) {
			best, ok = in, true
		}
	}
	return best, ok
}

// rank orders sources by priority: flag, PATH, pyenv.
func rank(in Interpreter) int {
	switch in.Source {
	case SourceFlag:
		return 0
	case SourcePATH:
		return 1
	}
	return 2
}

// newest is the newest interpreter, preferring the GIL build of the newest
// minor to its free-threaded twin: that is what most CI runs. found is
// sorted by version.
func newest(found []Interpreter) Interpreter {
	last := found[len(found)-1]
	for i := len(found) - 1; i >= 0; i-- {
		if !found[i].FreeThreaded && found[i].Minor == strings.TrimSuffix(last.Minor, "t") {
			return found[i]
		}
	}
	return last
}

// minors lists the distinct minors found, in version order, for errors.
func minors(found []Interpreter) string {
	var out []string
	seen := map[string]bool{}
	for _, in := range found {
		if !seen[in.Minor] {
			seen[in.Minor] = true
			out = append(out, in.Minor)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// probePath probes a spec that names a file (or a command on PATH).
func probePath(ctx context.Context, spec string) (Interpreter, error) {
	path := spec
	if !strings.ContainsRune(spec, filepath.Separator) {
		p, err := exec.LookPath(spec)
		if err != nil {
			return Interpreter{}, fmt.Errorf("--python %s: not a version, \"all\", a path or a command on PATH", spec)
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Interpreter{}, fmt.Errorf("--python %s: %w", spec, err)
	}
	in, err := probe(ctx, abs)
	if err == nil {
		err = usable(in)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Interpreter{}, ctx.Err()
		}
		return Interpreter{}, fmt.Errorf("--python %s: not a working CPython >= 3.8: %v", abs, err)
	}
	in.Source = SourceFlag
	return in, nil
}

// dedupe keeps one interpreter per real binary, the one from the highest
// priority source, and orders them by version.
func dedupe(cands []Interpreter) ([]Interpreter, []Skipped) {
	sort.SliceStable(cands, func(i, j int) bool { return rank(cands[i]) < rank(cands[j]) })
	var found []Interpreter
	var skipped []Skipped
	kept := map[string]string{}
	for _, in := range cands {
		key := realPath(in.Path)
		if first, ok := kept[key]; ok {
			if first != in.Path {
				skipped = append(skipped, Skipped{in.Path, "same as " + first})
			}
			continue
		}
		kept[key] = in.Path
		found = append(found, in)
	}
	sort.SliceStable(found, func(i, j int) bool { return less(found[i], found[j]) })
	return found, skipped
}
