package trace

import "testing"

// TestStuckAt: where a stuck process blocks, read from its faulthandler dump.
func TestStuckAt(t *testing.T) {
	const std = "/py/lib/python3.8/"
	dump := func(frames ...string) string {
		s := "Current thread 0x00007f (most recent call first):\n"
		for _, f := range frames {
			s += "  File \"" + f + "\n"
		}
		return s
	}
	tests := []struct {
		name, dump, forkAt, want string
	}{
		{"program's own line", dump(std+`threading.py", line 10 in wait`, `/app/main.py", line 5 in child`),
			"", "/app/main.py:5"},
		// A 3.8 pool worker flushing sys.stderr at exit: its only program
		// frame is the parent's Pool(...) line, inherited through the fork.
		{"below the fork line", dump(std+`multiprocessing/util.py", line 300 in _exit_function`,
			std+`multiprocessing/pool.py", line 200 in _repopulate_pool`, `/app/main.py", line 9 in <module>`),
			"/app/main.py:9", std + "multiprocessing/util.py:300"},
		{"inside a library", dump(std+`threading.py", line 10 in acquire`,
			`/venv/lib/python3.8/site-packages/tqdm/std.py", line 40 in write`, `/app/main.py", line 7 in report`),
			"", "/venv/lib/python3.8/site-packages/tqdm/std.py:40 (called from /app/main.py:7)"},
		{"nothing but the standard library", dump(std + `threading.py", line 10 in wait`), "", std + "threading.py:10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := stuckAt(tc.dump, std, tc.forkAt); got != tc.want {
				t.Errorf("stuckAt = %q, want %q", got, tc.want)
			}
		})
	}
}
