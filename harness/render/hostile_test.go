package render

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// hostileWant reads a hostile file's first line: "# want: inert" (it parses,
// and renders into a program that runs and creates no canary) or "# want:
// error: TEXT" (Parse refuses it with an error containing TEXT).
func hostileWant(t *testing.T, data []byte) (inert bool, errText string) {
	t.Helper()
	first, _, _ := bytes.Cut(data, []byte("\n"))
	want, ok := strings.CutPrefix(string(first), "# want: ")
	switch {
	case !ok:
		t.Fatalf("first line %q is not '# want: ...'", first)
	case want == "inert":
		return true, ""
	case strings.HasPrefix(want, "error: "):
		return false, strings.TrimPrefix(want, "error: ")
	}
	t.Fatalf("first line %q: want 'inert' or 'error: TEXT'", first)
	return false, ""
}

// TestHostile: every hostile scenario is refused with a clear error, or
// renders into a program whose text stays text. Each accepted one runs under
// fork with CANARY pointing into a temporary folder; the injections in it
// would touch that file.
func TestHostile(t *testing.T) {
	paths, err := filepath.Glob("testdata/hostile/*.yaml")
	if err != nil || len(paths) < 30 {
		t.Fatalf("hostile corpus: %d files, %v", len(paths), err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			inert, errText := hostileWant(t, data)
			s, err := scenario.Parse(path, data)
			if !inert {
				if err == nil {
					t.Fatalf("parsed, want an error containing %q", errText)
				}
				// One clear line per problem, each naming the file.
				for _, line := range strings.Split(err.Error(), "\n") {
					if !strings.HasPrefix(line, path) && !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "  ") {
						t.Errorf("error line %q does not name the file", line)
					}
				}
				if !strings.Contains(err.Error(), errText) {
					t.Fatalf("error %q does not contain %q", err, errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused, want it rendered inertly: %v", err)
			}
			checkInert(t, s, Options{Source: path})
			p, err := Write(s, Options{Source: path})
			if err != nil {
				t.Fatal(err)
			}
			if testing.Short() {
				return
			}
			canary := runWithCanary(t, p.Source)
			if _, err := os.Stat(canary); err == nil {
				t.Fatalf("the program created the canary %s", canary)
			}
		})
	}
}

// runWithCanary runs src under fork in a temporary folder, with CANARY
// naming a file there, and returns that file's path. The run must exit 0.
func runWithCanary(t *testing.T, src []byte) string {
	t.Helper()
	dir := t.TempDir()
	prog, canary := filepath.Join(dir, "prog.py"), filepath.Join(dir, "CANARY")
	writeFile(t, prog, src)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python3Path(t), prog, "--start-method", "fork")
	cmd.Dir, cmd.Env = dir, append(cleanEnv(), "CANARY="+canary, "TMPDIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	return canary
}

// TestCanaryCanFail: the injection the hostile files carry does create the
// canary when it reaches code, so TestHostile's check can fail.
func TestCanaryCanFail(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	data, err := os.ReadFile("testdata/hostile/about-triple-quotes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var injection string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "__import__"); i >= 0 {
			injection, _, _ = strings.Cut(sc.Text()[i:], `)\n`)
			injection += ")"
			break
		}
	}
	s := lockScenario()
	p, err := Write(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// What an unescaped about would have done: the injection as code.
	src := bytes.Replace(p.Source, []byte("\nimport "), []byte("\n"+injection+"\nimport "), 1)
	canary := runWithCanary(t, src)
	if _, err := os.Stat(canary); err != nil {
		t.Fatalf("injected %q, no canary: %v", injection, err)
	}
}
