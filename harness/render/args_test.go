package render

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// The program's own command line: --start-method in both spellings, --help,
// and a usage error (exit 2) for anything else. A negative control, so that
// every accepted method runs to completion.
func TestProgramArguments(t *testing.T) {
	s, err := scenario.ParseFile(filepath.Join("..", "..", "scenarios", "threads-holding-nothing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Write(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(t.TempDir(), "p.py")
	writeFile(t, prog, p.Source)
	for _, tc := range []struct {
		args []string
		code int
		out  string // in stdout, or in stderr for a usage error
	}{
		{nil, 0, ""},
		{[]string{"--start-method", "spawn"}, 0, ""},
		{[]string{"--start-method=forkserver"}, 0, ""},
		{[]string{"--help"}, 0, "--start-method METHOD"},
		{[]string{"--start-method", "default"}, 0, ""},
		{[]string{"--start-method", "thread"}, 2, "error: --start-method 'thread': want fork, spawn, forkserver or default"},
		{[]string{"--start-method"}, 2, "error: --start-method needs a value"},
		{[]string{"extra"}, 2, "error: unrecognized argument: extra"},
	} {
		cmd := exec.Command(python3Path(t), append([]string{prog}, tc.args...)...)
		cmd.Env = cleanEnv()
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		got := stdout.String()
		if tc.code == 2 {
			got = stderr.String()
		}
		if code != tc.code || !strings.Contains(got, tc.out) {
			t.Errorf("p.py %v: exit %d, output %q; want exit %d with %q", tc.args, code, got, tc.code, tc.out)
		}
	}
}
