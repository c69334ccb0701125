package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGoldensCompile compiles every golden with every interpreter 3.8-3.13
// found under $(pyenv root)/versions; missing ones are skipped.
func TestGoldensCompile(t *testing.T) {
	goldens, err := filepath.Glob("testdata/*.py.golden")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	root := pyenvRoot()
	found := 0
	for _, v := range []string{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"} {
		matches, _ := filepath.Glob(filepath.Join(root, "versions", v+".*", "bin", "python"+v))
		if len(matches) == 0 {
			t.Logf("no Python %s under %s", v, root)
			continue
		}
		found++
		python := matches[0]
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			// py_compile reads .py.golden fine; cfile keeps bytecode out of the tree.
			script := "import py_compile, sys, os, tempfile\n" +
				"d = tempfile.mkdtemp()\n" +
				"for i, f in enumerate(sys.argv[1:]):\n" +
				"    py_compile.compile(f, cfile=os.path.join(d, str(i)), doraise=True)\n" +
				"import shutil; shutil.rmtree(d)\n"
			cmd := exec.Command(python, append([]string{"-c", script}, goldens...)...)
			cmd.Env = cleanEnv()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", python, err, out)
			}
		})
	}
	if found == 0 {
		t.Skip("no pyenv interpreters")
	}
}

func pyenvRoot() string {
	if out, err := exec.Command("pyenv", "root").Output(); err == nil && len(out) > 1 {
		return string(out[:len(out)-1])
	}
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	return filepath.Join(os.Getenv("HOME"), ".pyenv")
}
