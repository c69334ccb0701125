package render

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// TestStepLines checks that each StepLine names the line of its blocking
// operation, not its trace line.
func TestStepLines(t *testing.T) {
	cases := []struct {
		file, who string
		index     int
		want      string // the text of that line, trimmed
	}{
		{"lock-held", "thread/holder", 0, "lock_L.acquire()"},
		{"lock-held", "thread/holder", 1, `_park("held", event_held)`},
		{"lock-held", "main", 1, "event_held.wait()"},
		{"lock-held", "main", 2, "process.start()"},
		{"lock-held", "child", 0, "with lock_L:"},
		{"queue-mutex", "thread/holder", 0, "with queue_Q.mutex:"},
		{"queue-mutex", "child", 0, "queue_Q.put(1)"},
		{"sqlite-shared", "thread/query", 0, `conn_DB.execute("select ff_park()").fetchall()`},
		{"module-import", "thread/importer", 0, "import ffmod_M"},
		{"logging-handler", "thread/logger", 0, `log_H.warning("forkfuzz: park in H")`},
		{"logging-module", "thread/holder", 0, "with logging._lock:"},
		{"pipe-writer", "thread/writer", 0, "writer_W.write(_pipe_payload(pipe_W))"},
		{"pipe-writer", "main", 2, "_wait_pipe_full(writer_W.fileno(), event_blocked)"},
		{"stdout-writer", "child", 0, "sys.stdout.flush()"},
		{"stdout-writer", "child", 1, "sys.exit(0)  # exit: normal, which flushes std streams"},
		{"executor-busy", "thread/submitter", 0, `future = executor_EX.submit(_park_after, submitted, "running", event_running)  # parks on the executor's worker`},
		{"pool-lock", "main", 2, "pool = ctx.Pool(2, initializer=_adopt, initargs=(shared,))"},
		{"semaphore-taken", "main", 3, "pid, process = os.fork(), None"},
		{"semaphore-taken", "child", 0, "event_childgo.set()"},
		{"unguarded-lock", "main", 0, `_start("holder", thread_holder)`},
	}
	for _, c := range cases {
		p := renderFile(t, filepath.Join("testdata", c.file+".yaml"), Options{})
		lines := strings.Split(string(p.Source), "\n")
		found := false
		for _, s := range p.Steps {
			if s.Who != c.who || s.Index != c.index {
				continue
			}
			found = true
			if s.Line < 1 || s.Line > len(lines) {
				t.Errorf("%s %s:%d: line %d out of range", c.file, c.who, c.index, s.Line)
				continue
			}
			if got := strings.TrimSpace(lines[s.Line-1]); got != c.want {
				t.Errorf("%s %s:%d: line %d is %q, want %q", c.file, c.who, c.index, s.Line, got, c.want)
			}
		}
		if !found {
			t.Errorf("%s: no StepLine for %s:%d", c.file, c.who, c.index)
		}
	}
}

// TestStepsComplete: one StepLine per step, main first, then child, then threads.
func TestStepsComplete(t *testing.T) {
	for _, path := range goldenCases(t) {
		s, err := scenario.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Write(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := len(s.Main)
		for _, st := range s.Main {
			if st.Fork != nil {
				n += len(st.Fork.Child)
			}
		}
		for _, th := range s.Threads {
			n += len(th.Steps)
		}
		if len(p.Steps) != n {
			t.Errorf("%s: %d StepLines for %d steps", path, len(p.Steps), n)
		}
		if len(p.Steps) > 0 && p.Steps[0].Who != "main" {
			t.Errorf("%s: first StepLine is %s", path, p.Steps[0].Who)
		}
	}
}

func lockScenario() *scenario.Scenario {
	return &scenario.Scenario{
		Name:      "x",
		Resources: []scenario.Resource{{Name: "L", Kind: scenario.Lock}},
		Main: []scenario.Step{{Op: scenario.OpFork, Fork: &scenario.Fork{Via: scenario.ViaProcess,
			Child: []scenario.Step{{Op: scenario.OpUse, Resource: "L"}}}}},
	}
}

// TestHostileText: no text of the scenario can escape the docstring, even
// what the parser refuses (control characters, invalid UTF-8).
func TestHostileText(t *testing.T) {
	s := lockScenario()
	s.Name = "n\"\"\"\nimport os; os._exit(7)\n\"\"\""
	s.About = "a\"\"\" + __import__('os')._exit(7) + \"\"\"\r\x00\u2028\x0c\x1b[2J\\\xff\xfe end\\"
	p, err := Write(s, Options{Source: "dir/\"\"\"\n\\.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	script := "import ast, sys\n" +
		"tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n" +
		"doc = ast.get_docstring(tree)\n" +
		"assert isinstance(tree.body[1], ast.Import), ast.dump(tree.body[1])\n" +
		"assert 'os._exit(7)' in doc and '__import__' in doc and doc.count('\"\"\"') == 5, doc\n" +
		"assert '\\x00' in doc and '\\x1b' in doc and '\\ufffd' in doc and '\\\\.yaml.' in doc, doc\n"
	path := filepath.Join(t.TempDir(), "p.py")
	writeFile(t, path, p.Source)
	if out, err := exec.Command(python3Path(t), "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, p.Source[:600])
	}
}

// TestErrors: what cannot be rendered is an error, never a panic.
func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(s *scenario.Scenario)
	}{
		{"bad resource name", func(s *scenario.Scenario) { s.Resources[0].Name = "class-1" }},
		{"reserved prefix", func(s *scenario.Scenario) { s.Resources[0].Name = "ff_x" }},
		{"unknown kind", func(s *scenario.Scenario) { s.Resources[0].Kind = "mutex" }},
		{"unknown resource", func(s *scenario.Scenario) { s.Main[0].Fork.Child[0].Resource = "Z" }},
		{"take sqlite", func(s *scenario.Scenario) {
			s.Resources[0].Kind = scenario.SQLite
			s.Main[0].Fork.Child[0].Op = scenario.OpTake
		}},
		{"no fork", func(s *scenario.Scenario) { s.Main = nil }},
		{"fork without fork", func(s *scenario.Scenario) { s.Main[0].Fork = nil }},
		{"two forks", func(s *scenario.Scenario) { s.Main = append(s.Main, s.Main[0]) }},
		{"unknown via", func(s *scenario.Scenario) { s.Main[0].Fork.Via = "vfork" }},
		{"unknown op", func(s *scenario.Scenario) { s.Main[0].Fork.Child[0].Op = "jump" }},
		{"fork in child", func(s *scenario.Scenario) {
			s.Main[0].Fork.Child = append(s.Main[0].Fork.Child, scenario.Step{Op: scenario.OpFork})
		}},
		{"bad event", func(s *scenario.Scenario) {
			s.Main[0].Fork.Child = append(s.Main[0].Fork.Child, scenario.Step{Op: scenario.OpSignal, Event: "a b"})
		}},
		{"unknown thread", func(s *scenario.Scenario) {
			s.Main = append([]scenario.Step{{Op: scenario.OpStart, Thread: "t"}}, s.Main...)
		}},
	}
	for _, c := range cases {
		s := lockScenario()
		c.edit(s)
		if p, err := Write(s, Options{}); err == nil {
			t.Errorf("%s: rendered without error:\n%s", c.name, p.Source)
		}
	}
	if _, err := Write(nil, Options{}); err == nil {
		t.Error("nil scenario rendered")
	}
}
