package signature

import (
	"reflect"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/proc"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// holderScenario: thread H takes (or parks inside) resource NAME of KIND,
// main forks, the child uses it.
func holderScenario(name string, kind scenario.Kind, park bool) *scenario.Scenario {
	steps := []scenario.Step{{Op: scenario.OpTake, Resource: name}, {Op: scenario.OpPark, Event: "held"}}
	if park {
		steps = []scenario.Step{{Op: scenario.OpPark, Event: "held", Resource: name}}
	}
	return &scenario.Scenario{
		Name:      "t",
		Resources: []scenario.Resource{{Name: "Other", Kind: scenario.Lock}, {Name: name, Kind: kind}},
		Threads:   []scenario.Thread{{Name: "holder", Steps: steps}},
		Main: []scenario.Step{{Op: scenario.OpStart, Thread: "holder"}, {Op: scenario.OpWait, Event: "held"},
			{Op: scenario.OpFork, Fork: &scenario.Fork{Via: scenario.ViaProcess, Child: []scenario.Step{{Op: scenario.OpUse, Resource: name}}}}},
	}
}

func deadlock(pid int, where string, frames []run.Frame, events ...run.Event) run.Result {
	return run.Result{Verdict: scenario.Deadlock, Where: where, Evidence: &proc.Evidence{Pid: pid}, Frames: frames, Events: events}
}

func stepEvent(pid int, role, args string) run.Event {
	return run.Event{Pid: pid, Role: role, Event: "step", Args: args}
}

func TestOf(t *testing.T) {
	py311 := "/usr/lib/python3.11/"
	pyenv38 := "/root/.pyenv/versions/3.8.18/lib/python3.8/"
	tests := []struct {
		name string
		s    *scenario.Scenario
		r    run.Result
		want Signature
		ok   bool
	}{
		{
			name: "lock taken by a thread, child uses it",
			s:    holderScenario("L", scenario.Lock, false),
			r: deadlock(20, "child", []run.Frame{{File: "/tmp/x/prog.py", Line: 40, Func: "child"}, {File: "/tmp/x/prog.py", Line: 90, Func: "main"}},
				stepEvent(10, "parent", "main:2 fork process"), stepEvent(20, "child", "child:0 use L")),
			want: Signature{Kind: scenario.Lock, Held: "take lock", Where: "child", Blocked: "use lock", Frames: []string{"program:child"}},
			ok:   true,
		},
		{
			name: "sqlite parked inside a query; library frames normalised",
			s:    holderScenario("DB", scenario.SQLite, true),
			r: deadlock(21, "worker", []run.Frame{{File: py311 + "threading.py", Line: 320, Func: "wait"}, {File: py311 + "concurrent/futures/_base.py", Line: 451, Func: "result"},
				{File: "/tmp/y/other.py", Line: 12, Func: "child"}, {File: py311 + "multiprocessing/pool.py", Line: 125, Func: "worker"}},
				stepEvent(21, "worker", "child:0 use DB"), stepEvent(10, "parent", "thread/holder:0 park held")),
			want: Signature{Kind: scenario.SQLite, Held: "park in sqlite", Where: "worker", Blocked: "use sqlite",
				Frames: []string{"threading:wait", "concurrent.futures._base:result", "program:child"}},
			ok: true,
		},
		{
			name: "parent stuck in fork: blamed on the logging module lock, not the first resource",
			s: func() *scenario.Scenario {
				s := holderScenario("LogLock", scenario.LoggingModule, false)
				s.Threads[0].Steps = append([]scenario.Step{{Op: scenario.OpTake, Resource: "Other"}}, s.Threads[0].Steps...)
				return s
			}(),
			r: deadlock(10, "parent", []run.Frame{{File: pyenv38 + "logging/__init__.py", Line: 225, Func: "_acquireLock"}, {File: "/tmp/p.py", Line: 80, Func: "main"}},
				stepEvent(10, "parent", "main:2 fork os.fork")),
			want: Signature{Kind: scenario.LoggingModule, Held: "take logging-module", Where: "parent", Blocked: "fork",
				Frames: []string{"logging:_acquireLock", "program:main"}},
			ok: true,
		},
		{
			name: "module import blocked in frozen importlib",
			s:    holderScenario("M", scenario.Module, true),
			r: deadlock(30, "child", []run.Frame{{File: "<frozen importlib._bootstrap>", Line: 100, Func: "acquire"}, {File: "/tmp/p.py", Line: 50, Func: "child"}},
				stepEvent(30, "child", "child:0 use M")),
			want: Signature{Kind: scenario.Module, Held: "park in module", Where: "child", Blocked: "use module",
				Frames: []string{"importlib._bootstrap:acquire", "program:child"}},
			ok: true,
		},
		{
			name: "lock taken by main before the fork",
			s: func() *scenario.Scenario {
				s := holderScenario("L", scenario.Lock, false)
				s.Threads[0].Steps = []scenario.Step{{Op: scenario.OpPark, Event: "held"}}
				s.Main = append([]scenario.Step{{Op: scenario.OpTake, Resource: "L"}}, s.Main...)
				return s
			}(),
			r:    deadlock(20, "child", []run.Frame{{File: "/tmp/p.py", Line: 50, Func: "child"}}, stepEvent(20, "child", "child:0 use L")),
			want: Signature{Kind: scenario.Lock, Held: "main take lock", Where: "child", Blocked: "use lock", Frames: []string{"program:child"}},
			ok:   true,
		},
		{
			name: "stack dump lost",
			s:    holderScenario("L", scenario.Lock, false),
			r:    deadlock(20, "child", nil, stepEvent(20, "child", "child:0 use L")),
		},
		{
			name: "not a deadlock",
			s:    holderScenario("L", scenario.Lock, false),
			r:    run.Result{Verdict: scenario.Hang},
		},
		{
			name: "no step event from the stuck pid",
			s:    holderScenario("L", scenario.Lock, false),
			r:    deadlock(99, "child", []run.Frame{{File: "/tmp/p.py", Func: "child"}}, stepEvent(20, "child", "child:0 use L")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Of(tt.s, tt.r)
			if ok != tt.ok {
				t.Fatalf("Of ok = %v, want %v (got %+v)", ok, tt.ok, got)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Of =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

// TestKeyIgnoresNames: renaming resources and threads, moving lines, another
// interpreter path and patch version, other pids, take instead of use: one key.
func TestKeyIgnoresNames(t *testing.T) {
	a, _ := Of(holderScenario("L", scenario.Lock, false), deadlock(20, "child",
		[]run.Frame{{File: "/usr/lib/python3.11/threading.py", Line: 10, Func: "wait"}, {File: "/tmp/a/one.py", Line: 40, Func: "child"}},
		stepEvent(20, "child", "child:0 use L")))
	b, _ := Of(holderScenario("Other2", scenario.Lock, false), deadlock(4242, "child",
		[]run.Frame{{File: "/root/.pyenv/versions/3.12.1/lib/python3.12/threading.py", Line: 99, Func: "wait"}, {File: "/var/b/two.py", Line: 7, Func: "child"}},
		stepEvent(4242, "child", "child:3 take Other2")))
	if a.Key() != b.Key() {
		t.Errorf("keys differ:\n  %s\n  %s", a.Key(), b.Key())
	}
	// A middle frame lost to a garbled dump line does not change the key.
	full := Signature{Kind: scenario.Queue, Frames: []string{"threading:__enter__", "queue:put", "program:child"}}
	lost := Signature{Kind: scenario.Queue, Frames: []string{"threading:__enter__", "program:child"}}
	if full.Key() != lost.Key() {
		t.Errorf("a lost middle frame changes the key:\n  %s\n  %s", full.Key(), lost.Key())
	}
	other := Signature{Kind: scenario.Queue, Frames: []string{"threading:wait", "program:child"}}
	if other.Key() == full.Key() {
		t.Errorf("another innermost frame gives the same key %s", full.Key())
	}
	c := a
	c.Where = "worker"
	if c.Key() == a.Key() {
		t.Errorf("a different stuck process gives the same key %s", a.Key())
	}
}
