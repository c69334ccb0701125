package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

var update = flag.Bool("update", false, "rewrite testdata/*.py.golden")

// goldenCases are the scenarios of testdata: every kind, op and via.
func goldenCases(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata/*.yaml: %v", err)
	}
	return paths
}

// renderFile parses and renders one testdata scenario, naming it by its
// relative path so the goldens do not depend on where the tree lives.
func renderFile(t *testing.T, path string, opts Options) *Program {
	t.Helper()
	s, err := scenario.ParseFile(path)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	opts.Source = path
	p, err := Write(s, opts)
	if err != nil {
		t.Fatalf("render %s: %v", path, err)
	}
	return p
}

func goldenPath(yamlPath string, opts Options) string {
	stem := strings.TrimSuffix(yamlPath, ".yaml")
	if opts.ReinitAtFork {
		stem += ".reinit"
	}
	return stem + ".py.golden"
}

func TestGolden(t *testing.T) {
	for _, path := range goldenCases(t) {
		for _, opts := range []Options{{}, {ReinitAtFork: true}} {
			golden := goldenPath(path, opts)
			t.Run(filepath.Base(golden), func(t *testing.T) {
				got := renderFile(t, path, opts).Source
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the rendering; run go test ./harness/render -update and review the diff", golden)
				}
			})
		}
	}
}
