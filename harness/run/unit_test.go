package run

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		line string
		want Event
		ok   bool
	}{
		{"@forkfuzz 12 child step child:0 use L\n", Event{Pid: 12, Role: "child", Event: "step", Args: "child:0 use L"}, true},
		{"@forkfuzz 7 parent done\n", Event{Pid: 7, Role: "parent", Event: "done"}, true},
		{"@forkfuzz 7 parent result error ValueError: x y\n", Event{Pid: 7, Role: "parent", Event: "result", Args: "error ValueError: x y"}, true},
		{"@forkfuzz x parent done\n", Event{}, false},
		{"@forkfuzz 7 parent\n", Event{}, false},
		{"  File \"a.py\", line 3 in f\n", Event{}, false},
	}
	for _, tc := range tests {
		got, ok := parseEvent([]byte(tc.line), time.Time{})
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseEvent(%q) = %+v %v, want %+v %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseDump(t *testing.T) {
	dump := `Thread 0x00007f1 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 327 in wait
  File "/p/x.py", line 12 in holder

Current thread 0x00007f2 (most recent call first):
  File "/p/x.py", line 20 in <module>
`
	want := []ThreadStack{
		{ID: "0x00007f1", Frames: []Frame{{"/usr/lib/python3.11/threading.py", 327, "wait"}, {"/p/x.py", 12, "holder"}}},
		{ID: "0x00007f2", Current: true, Frames: []Frame{{"/p/x.py", 20, "<module>"}}},
	}
	got := parseDump(dump)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseDump = %+v, want %+v", got, want)
	}
	if f := currentFrames(got); !reflect.DeepEqual(f, want[1].Frames) {
		t.Errorf("currentFrames = %+v", f)
	}
	single := parseDump("Stack (most recent call first):\n  File \"a.py\", line 1 in f\n")
	if f := currentFrames(single); len(f) != 1 || f[0].Func != "f" {
		t.Errorf("single-thread dump: %+v", single)
	}
}

func TestLastTraceback(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    x()\nValueError: boom\n", "ValueError: boom"},
		{"Traceback (most recent call last):\n  x\nKeyError: 1\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  y\nRuntimeError: two\n", "RuntimeError: two"},
		{"no traceback here\n", ""},
	}
	for _, tc := range tests {
		if got := lastTraceback(tc.text); got != tc.want {
			t.Errorf("lastTraceback(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("PYTHONUNBUFFERED", "1")
	t.Setenv("PYTHONPATH", "/nowhere")
	t.Setenv("FORKFUZZ_TRACE", "0")
	env, recorded := environ([]string{"PYTHONHASHSEED=0", "FOO=bar"})
	joined := "\n" + strings.Join(env, "\n") + "\n"
	for _, bad := range []string{"PYTHONUNBUFFERED=", "PYTHONPATH=", "FORKFUZZ_TRACE=0"} {
		if strings.Contains(joined, "\n"+bad) {
			t.Errorf("env keeps %s", bad)
		}
	}
	for _, good := range []string{"FORKFUZZ_TRACE=1", "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0", "FOO=bar", "PATH=" + os.Getenv("PATH")} {
		if !strings.Contains(joined, "\n"+good+"\n") {
			t.Errorf("env lacks %s", good)
		}
	}
	want := []string{"FORKFUZZ_TRACE=1", "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0"}
	if !reflect.DeepEqual(recorded, want) {
		t.Errorf("recorded %v, want %v", recorded, want)
	}
}

// A trace line written by another process into the middle of a dump line is
// taken out whole, and the dump line is mended.
func TestStreamSplicesInterleavedTraceLine(t *testing.T) {
	s := &stream{trace: true, roles: map[int]string{}, lastStep: map[int]time.Time{}, synced: map[int]chan struct{}{}}
	now := time.Now()
	s.feed([]byte("Current thread 0x1 (most recent call first):\n  File \"p.py\", line 3"), now)
	s.feed([]byte("@forkfuzz 42 worker step child:0 use L\n in child\n"), now)
	if got, want := string(s.text), "Current thread 0x1 (most recent call first):\n  File \"p.py\", line 3 in child\n"; got != want {
		t.Fatalf("text = %q, want %q", got, want)
	}
	if len(s.events) != 1 || s.events[0].Pid != 42 || s.events[0].Args != "child:0 use L" {
		t.Fatalf("events = %+v", s.events)
	}
	if fr := parseDump(string(s.text)); len(fr) != 1 || len(fr[0].Frames) != 1 || fr[0].Frames[0].Func != "child" {
		t.Fatalf("frames = %+v", fr)
	}
}
