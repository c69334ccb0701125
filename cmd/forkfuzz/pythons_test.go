package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOddInterpreters runs commands where no usable Python is: none on PATH
// (and no pyenv), only a 3.7 or 2.7, a pyenv shim that fails or hangs, a
// --python that is not Python. Each must end within seconds with exit 2 and
// one line saying why, and leave no process behind.
func TestOddInterpreters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz")
	}
	scen, _ := filepath.Abs(filepath.Join("..", "..", "scenarios", "lock-held-by-thread.yaml"))
	old := filepath.Join(pyenvRootForTest(), "versions")
	py37, _ := filepath.Glob(filepath.Join(old, "3.7.*", "bin", "python3.7"))
	py27, _ := filepath.Glob(filepath.Join(old, "2.7.*", "bin", "python2.7"))
	type fake map[string]string // name in the PATH folder -> script, or "->target" for a symlink
	cases := []struct {
		name  string
		path  fake     // the only PATH folder's content
		args  []string // after the command; the scenario is added for run
		cmds  []string
		want  string // in the one line
		needs []string
	}{
		{name: "nothing on PATH", path: fake{}, cmds: []string{"run", "fuzz", "replay"}, want: "python3 is not on PATH"},
		{name: "python3 is 3.7", path: fake{"python3": "->" + first(py37)}, cmds: []string{"run"}, want: "3.7", needs: py37},
		{name: "python3 is 2.7", path: fake{"python3": "->" + first(py27)}, cmds: []string{"run"}, want: "python3 on PATH", needs: py27},
		{name: "broken pyenv shim", path: fake{"python3": "#!/bin/sh\necho \"pyenv: version '3.99.0' is not installed (set by PYENV_VERSION)\" >&2\nexit 1\n"},
			cmds: []string{"run", "fuzz"}, want: "python3 on PATH"},
		{name: "hanging shim", path: fake{"python3": "#!/bin/sh\nexec /bin/sleep 600\n"}, cmds: []string{"run"}, want: "python3 on PATH"},
		{name: "--python is ls", path: fake{}, args: []string{"--python", "/bin/ls"}, cmds: []string{"run", "fuzz"}, want: "/bin/ls"},
		{name: "--python is a text file", path: fake{"NOTES": "not a program\n"}, args: []string{"--python", "HOME/bin/NOTES"}, cmds: []string{"run"}, want: "bin/NOTES"},
		{name: "--python missing", path: fake{}, args: []string{"--python", "/nonexistent/python3"}, cmds: []string{"run"}, want: "/nonexistent/python3"},
		{name: "--python 3.7", path: fake{"python3": "->" + first(py37)}, args: []string{"--python", "3.7"}, cmds: []string{"run"}, want: "3.7", needs: py37},
	}
	for _, c := range cases {
		for _, cmd := range c.cmds {
			t.Run(c.name+"/"+cmd, func(t *testing.T) {
				if len(c.needs) == 0 && c.needs != nil {
					t.Skip("no such interpreter under pyenv here")
				}
				home := t.TempDir()
				bin := filepath.Join(home, "bin")
				if err := os.Mkdir(bin, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, script := range c.path {
					var err error
					if target, ok := strings.CutPrefix(script, "->"); ok {
						err = os.Symlink(target, filepath.Join(bin, name))
					} else {
						err = os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				args := []string{cmd}
				for _, a := range c.args {
					args = append(args, strings.Replace(a, "HOME/", home+"/", 1))
				}
				switch cmd {
				case "run":
					args = append(args, scen)
				case "fuzz":
					args = append(args, "--budget", "1", "--corpus", filepath.Join(home, "corpus"))
				case "replay":
					args = append(args, "--allow-empty", home) // an empty corpus, accepted: the interpreter is what fails
				}
				env := []string{"PATH=" + bin, "HOME=" + home, "PYENV_ROOT=" + filepath.Join(home, "no-pyenv"), "PYENV_VERSION="}
				r := startTool(t, env, args...)
				if !r.waitExit(20 * time.Second) {
					t.Fatalf("still running after 20 s")
				}
				stderr := strings.TrimSpace(r.stderr.String())
				if code := r.cmd.ProcessState.ExitCode(); code != exitUsage {
					t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
				}
				lines := strings.Split(stderr, "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "forkfuzz "+cmd+": ") || !strings.Contains(lines[0], c.want) {
					t.Errorf("stderr:\n%s\nwant one line 'forkfuzz %s: ...' containing %q", stderr, cmd, c.want)
				}
				if left := r.leftAfter(2 * time.Second); len(left) > 0 {
					t.Errorf("processes left: %v", left)
				}
			})
		}
	}
}

func first(paths []string) string {
	if len(paths) == 0 {
		return "/nonexistent"
	}
	return paths[0]
}

func pyenvRootForTest() string {
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	return filepath.Join(os.Getenv("HOME"), ".pyenv")
}

// TestKillDuringProbe kills forkfuzz with SIGKILL while it waits on a
// python3 that hangs: the hung probe (and its children) must die with it.
func TestKillDuringProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz")
	}
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "python3"), []byte("#!/bin/sh\n/bin/sleep 600 &\nexec /bin/sleep 601\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	scen, _ := filepath.Abs(filepath.Join("..", "..", "scenarios", "lock-held-by-thread.yaml"))
	r := startTool(t, []string{"PATH=" + bin, "HOME=" + home, "PYENV_ROOT=" + filepath.Join(home, "no-pyenv")}, "run", scen)
	if !r.waitChildren(10*time.Second, "sleep 601") {
		t.Fatalf("the probe never started\n%s", r.stderr.String())
	}
	r.cmd.Process.Kill()
	r.waitExit(10 * time.Second)
	if left := r.leftAfter(3 * time.Second); len(left) > 0 {
		t.Errorf("processes left after SIGKILL of forkfuzz: %v", left)
	}
}
