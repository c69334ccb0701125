package render

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// compileServer is one python3 per test process that compiles the sources
// sent on its stdin: a py_compile process per input would cost 20 ms each.
// For each source it answers one line: "ok HASH DOCSTRING-AS-JSON", where
// HASH covers the syntax tree of everything after the docstring, or "err
// WHY". It exits when our end of its stdin closes, which is when the test
// process (a fuzz worker) exits.
const compileServer = `
import ast, hashlib, json, sys
inp = sys.stdin.buffer
while True:
    line = inp.readline()
    if not line:
        break
    src = inp.read(int(line))
    try:
        tree = compile(src, "<rendered>", "exec", ast.PyCF_ONLY_AST)
        compile(tree, "<rendered>", "exec")
        doc = ast.get_docstring(tree, clean=False)
        body = tree.body[1:] if doc is not None else tree.body
        h = hashlib.sha256(ast.dump(ast.Module(body=body, type_ignores=[])).encode()).hexdigest()
        sys.stdout.write("ok %s %s\n" % (h, json.dumps(doc)))
    except BaseException as e:
        sys.stdout.write("err %s\n" % json.dumps(repr(e)))
    sys.stdout.flush()
`

var compiler struct {
	once sync.Once
	mu   sync.Mutex
	in   io.Writer
	out  *bufio.Reader
	err  error
}

// compiled sends src to the compile server and returns the hash of the
// program's code after the docstring, and the docstring.
func compiled(t *testing.T, src []byte) (hash, doc string) {
	t.Helper()
	compiler.once.Do(func() {
		py, err := exec.LookPath("python3")
		if err != nil {
			compiler.err = err
			return
		}
		cmd := exec.Command(py, "-c", compileServer)
		cmd.Env = cleanEnv()
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		in, err := cmd.StdinPipe()
		if err == nil {
			var out io.ReadCloser
			if out, err = cmd.StdoutPipe(); err == nil {
				compiler.in, compiler.out = in, bufio.NewReader(out)
				err = cmd.Start()
			}
		}
		compiler.err = err
	})
	if compiler.err != nil {
		t.Skipf("no python3 to compile with: %v", compiler.err)
	}
	compiler.mu.Lock()
	defer compiler.mu.Unlock()
	if _, err := fmt.Fprintf(compiler.in, "%d\n%s", len(src), src); err != nil {
		t.Fatalf("compile server: %v", err)
	}
	line, err := compiler.out.ReadString('\n')
	if err != nil {
		t.Fatalf("compile server: %v", err)
	}
	verdict, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	if verdict != "ok" {
		t.Fatalf("rendered program does not compile: %s\n%s", rest, src)
	}
	hash, js, _ := strings.Cut(rest, " ")
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("compile server: docstring %q: %v", js, err)
	}
	return hash, doc
}

// checkInert renders s with and without its about text, with opts: both
// compile, the code after the docstring is the same (no text reached code)
// and the docstring holds the about text word for word.
func checkInert(t *testing.T, s *scenario.Scenario, opts Options) {
	t.Helper()
	p, err := Write(s, opts)
	if err != nil {
		t.Fatalf("Parse accepted what Write refuses: %v\n%s", err, scenario.Marshal(s))
	}
	bare := *s
	bare.About = ""
	q, err := Write(&bare, opts)
	if err != nil {
		t.Fatalf("render without about: %v", err)
	}
	hash, doc := compiled(t, p.Source)
	bareHash, _ := compiled(t, q.Source)
	if hash != bareHash {
		t.Fatalf("the about text changed the program's code:\n%s", p.Source)
	}
	if want := strings.Join(wrap(s.About, 76), "\n"); !strings.Contains(doc, want) {
		t.Fatalf("docstring %q does not hold the about text %q", doc, want)
	}
}

// fuzzSeeds adds every scenario of testdata, of the hostile corpus and of
// the library.
func fuzzSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.yaml")
	hostile, _ := filepath.Glob("testdata/hostile/*.yaml")
	lib, _ := filepath.Glob("../../scenarios/*.yaml")
	for _, p := range append(append(paths, hostile...), lib...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzRender: every scenario Parse accepts renders, plain and with the
// at-fork mitigation, into a program that compiles, and its free text stays
// in the docstring.
func FuzzRender(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		checkInert(t, s, Options{})
		checkInert(t, s, Options{ReinitAtFork: true, Source: "scenarios/x.yaml"})
	})
}

// FuzzRenderAbout aims at the one free-text field directly: any about text
// Validate accepts stays inert in the docstring.
func FuzzRenderAbout(f *testing.F) {
	for _, s := range []string{"x", `"""`, `\`, `a\`, `\N{BULLET}`, "\u202e)'", "é\u00a0x", "\t\"\"\"\n\\", `'''`,
		"__import__('os').system('touch CANARY')", "\\\"\"\"; import os #"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, about string) {
		s := lockScenario()
		s.About = about
		if s.Validate() != nil {
			return
		}
		checkInert(t, s, Options{})
	})
}
