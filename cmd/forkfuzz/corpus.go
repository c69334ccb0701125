package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "corpus", summary: "list (ls), merge and add to regression corpora: one entry per signature", run: corpusMain})
}

// Each subcommand's --help prints its text and flags; corpus --help prints
// all three.
const corpusLsUsage = `
Usage: forkfuzz corpus ls [--json] [DIR...]

Lists the entries of each corpus folder (default corpus/): ID, resource kind,
signature, and per Python version the recorded verdicts, as
"fork:DL spawn:ok fs:ok" (DL deadlock, PH the parent deadlocked in its own
fork, HANG, CRASH, ERR). A corrupt entry is reported by file name; the
others are still listed.

Exit code 0, 1 when an entry was corrupt, 2 for bad usage.`

const corpusMergeUsage = `
Usage: forkfuzz corpus merge SRC... DST

Adds the entries of each SRC folder to DST, one entry per signature: an
entry whose signature DST already has only adds its verdicts (where both
recorded one version and method differently, DST's is kept and the conflict
reported). Use it to fold the corpora of CI shards or of fuzzing machines.
A corrupt entry is reported by file name; the others are still merged.

Exit code 0, 1 when an entry was corrupt or a verdict conflicted, 2 for bad
usage (a SRC that is not a folder, or is DST itself).`

const corpusAddUsage = `
Usage: forkfuzz corpus add [-o DIR] [--python V] SCENARIO...

Runs each scenario under every method on each interpreter and records those
that are fork deadlocks (deadlock under fork, ok under spawn) in DIR, created
when the first is recorded (as fuzz --corpus is), with every verdict seen:
seeds a corpus from scenarios.

Exit code 0, 1 when a scenario did not load, run or record (or on
interruption), 2 for bad usage or input.`

func corpusMain(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Println("forkfuzz corpus: three subcommands, ls, merge and add.")
		for _, sub := range []func([]string) int{corpusLs, corpusMerge, corpusAdd} {
			fmt.Println()
			sub([]string{"--help"})
		}
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "ls":
		return corpusLs(args[1:])
	case "merge":
		return corpusMerge(args[1:])
	case "add":
		return corpusAdd(args[1:])
	}
	errorf("corpus", "unknown subcommand %q (want ls, merge or add)", args[0])
	return exitUsage
}

func corpusMerge(args []string) int {
	fs := newFlags("corpus", corpusMergeUsage)
	dirs, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(dirs) < 2 {
		errorf("corpus", "merge wants SRC... DST (run 'forkfuzz corpus merge --help')")
		return exitUsage
	}
	srcs, dst := dirs[:len(dirs)-1], dirs[len(dirs)-1]
	for _, s := range srcs {
		if st, err := os.Stat(s); err != nil || !st.IsDir() {
			errorf("corpus", "%s: not a corpus folder", s)
			return exitUsage
		}
		// Into itself every entry would "merge" with itself: a mistyped
		// command, not a fold.
		if sameFolder(s, dst) {
			errorf("corpus", "merge %s into %s: SRC is DST, nothing to merge", s, dst)
			return exitUsage
		}
	}
	if err := checkOutputFolder("DST", dst); err != nil {
		errorf("corpus", "merge: %v", err)
		return exitUsage
	}
	added, merged, errs := corpus.Merge(dst, srcs...)
	for _, err := range errs {
		errorf("corpus", "%v", err)
	}
	fmt.Printf("%d added, %d merged into existing entries, %s\n", added, merged, plural(len(errs), "problem"))
	if len(errs) > 0 {
		return exitMismatch
	}
	return exitOK
}

// sameFolder reports whether a and b name one folder, through "..", "./"
// and symbolic links. A b that does not exist yet is no folder of a's.
func sameFolder(a, b string) bool {
	resolve := func(p string) (string, bool) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", false
		}
		real, err := filepath.EvalSymlinks(abs)
		return real, err == nil
	}
	ra, okA := resolve(a)
	rb, okB := resolve(b)
	return okA && okB && ra == rb
}

func corpusLs(args []string) int {
	fs := newFlags("corpus", corpusLsUsage)
	asJSON := fs.Bool("json", false, "print the entries as a JSON array")
	dirs, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(dirs) == 0 {
		dirs = []string{"corpus"}
	}
	entries, bad, ok := loadCorpora("corpus", dirs)
	if !ok {
		return exitUsage
	}
	if *asJSON {
		printCorpusJSON(entries)
	} else {
		printCorpus(entries)
	}
	if len(bad) > 0 {
		return exitMismatch
	}
	return exitOK
}

// lsRecord is what ls --json prints for one entry.
type lsRecord struct {
	ID        string                                 `json:"id"`
	Dir       string                                 `json:"dir"`
	Name      string                                 `json:"name"`
	Kind      scenario.Kind                          `json:"kind"`
	Signature any                                    `json:"signature"`
	Key       string                                 `json:"key"`
	Seed      *int64                                 `json:"seed,omitempty"`
	Recorded  string                                 `json:"recorded"`
	Verdicts  map[string]map[string]scenario.Verdict `json:"verdicts"`
}

func printCorpusJSON(entries []*corpus.Entry) {
	out := []lsRecord{}
	for _, e := range entries {
		out = append(out, lsRecord{ID: e.ID, Dir: e.Dir, Name: e.Scenario.Name, Kind: e.Meta.Signature.Kind,
			Signature: e.Meta.Signature, Key: e.Meta.Signature.Key(), Seed: e.Meta.Seed,
			Recorded: e.Meta.Recorded.UTC().Format("2006-01-02T15:04:05Z"), Verdicts: e.Meta.Verdicts})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// printCorpus is a table with one column per Python version recorded.
func printCorpus(entries []*corpus.Entry) {
	var versions []string
	for _, e := range entries {
		for _, v := range e.Versions() {
			if !containsString(versions, v) {
				versions = append(versions, v)
			}
		}
	}
	sortVersions(versions)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "ID\tKIND\tSIGNATURE")
	for _, v := range versions {
		fmt.Fprint(tw, "\t"+v)
	}
	fmt.Fprintln(tw)
	for _, e := range entries {
		g := e.Meta.Signature
		fmt.Fprintf(tw, "%s\t%s\t%s -> %s (%s)", e.ID, g.Kind, orDash(g.Held), g.Blocked, g.Where)
		for _, v := range versions {
			fmt.Fprint(tw, "\t"+verdictCell(e.Meta.Verdicts[v], e.Meta.Signature.Where == "parent"))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Println(plural(len(entries), "entry"))
}

// verdictCell is "fork:DL spawn:ok fs:ok", methods in report order; a fork
// deadlock of an entry whose stuck process is the parent (in its own fork)
// is PH, as in the matrix.
func verdictCell(per map[string]scenario.Verdict, parentHang bool) string {
	short := map[string]string{scenario.MethodFork: "fork", scenario.MethodSpawn: "spawn", scenario.MethodForkserver: "fs"}
	var parts []string
	for _, m := range scenario.Methods {
		if v, ok := per[m]; ok {
			cell := shortVerdict(v)
			if m == scenario.MethodFork && v == scenario.Deadlock && parentHang {
				cell = "PH"
			}
			parts = append(parts, short[m]+":"+cell)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func shortVerdict(v scenario.Verdict) string {
	switch v {
	case scenario.Deadlock:
		return "DL"
	case scenario.OK:
		return "ok"
	case scenario.ErrorVerdict:
		return "ERR"
	}
	return strings.ToUpper(string(v))
}

func sortVersions(vs []string) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && corpus.VersionLess(vs[j], vs[j-1]); j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
