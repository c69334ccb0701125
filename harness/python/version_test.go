package python

import "testing"

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    [3]int
		wantErr bool
	}{
		{"3.11.7", [3]int{3, 11, 7}, false},
		{"2.7.18", [3]int{2, 7, 18}, false},
		{"3.14.0rc1", [3]int{3, 14, 0}, false},
		{"3.13.0a1", [3]int{3, 13, 0}, false},
		{"3.12.1+", [3]int{3, 12, 1}, false},
		{"3.20.10", [3]int{3, 20, 10}, false},
		{"3", [3]int{}, true},
		{"3.12", [3]int{}, true},
		{"3.x.1", [3]int{}, true},
		{"3.12rc.1", [3]int{}, true},
		{"", [3]int{}, true},
		{"Python 3.12.1", [3]int{}, true},
	}
	for _, tt := range tests {
		got, err := parseVersion(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseVersion(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMinorOf(t *testing.T) {
	tests := []struct {
		v    [3]int
		ft   bool
		want string
	}{
		{[3]int{3, 11, 7}, false, "3.11"},
		{[3]int{3, 13, 0}, true, "3.13t"},
		{[3]int{3, 14, 2}, true, "3.14t"},
	}
	for _, tt := range tests {
		if got := minorOf(tt.v, tt.ft); got != tt.want {
			t.Errorf("minorOf(%v, %v) = %q, want %q", tt.v, tt.ft, got, tt.want)
		}
	}
}

func TestUsable(t *testing.T) {
	tests := []struct {
		in   Interpreter
		want string // "" for usable
	}{
		{Interpreter{Version: "3.8.0", Implementation: "CPython"}, ""},
		{Interpreter{Version: "3.14.0rc1", Implementation: "CPython", FreeThreaded: true}, ""},
		{Interpreter{Version: "2.7.18", Implementation: "CPython"}, "Python 2.7.18 is older than 3.8"},
		{Interpreter{Version: "3.7.16", Implementation: "CPython"}, "Python 3.7.16 is older than 3.8"},
		{Interpreter{Version: "3.10.14", Implementation: "PyPy"}, "PyPy 3.10.14 is not CPython (the scenarios use CPython internals)"},
		{Interpreter{Version: "junk", Implementation: "CPython"}, `version "junk": want MAJOR.MINOR.MICRO`},
	}
	for _, tt := range tests {
		got := ""
		if err := usable(tt.in); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("usable(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLess(t *testing.T) {
	ordered := []Interpreter{
		{Version: "3.8.18", Path: "/b"},
		{Version: "3.10.1", Path: "/a"},
		{Version: "3.13.0", Path: "/z"},
		{Version: "3.13.0", Path: "/a", FreeThreaded: true},
		{Version: "3.14.0rc1", Path: "/a"},
	}
	for i := range ordered {
		for j := range ordered {
			if got := less(ordered[i], ordered[j]); got != (i < j) {
				t.Errorf("less(%v, %v) = %v, want %v", ordered[i], ordered[j], got, i < j)
			}
		}
	}
}

// TestKey checks the one verdicts key of an interpreter, and that its minor
// is the interpreter's own Minor: a free-threaded build never shares a key
// with its GIL twin.
func TestKey(t *testing.T) {
	tests := []struct {
		version string
		ft      bool
		key     string
	}{
		{"3.12.1", false, "3.12.1"},
		{"3.14.10", true, "3.14.10t"},
		{"3.14.0rc1", true, "3.14.0rc1t"},
		{"3.13.0t", true, "3.13.0t"}, // already a key: not "3.13.0tt"
	}
	for _, tt := range tests {
		in := Interpreter{Version: tt.version, FreeThreaded: tt.ft}
		v, _ := parseVersion(tt.version)
		in.Minor = minorOf(v, tt.ft)
		key := in.Key()
		if key != tt.key {
			t.Errorf("Key of %s (free-threaded %v) = %q, want %q", tt.version, tt.ft, key, tt.key)
		}
		if got := KeyMinor(key); got != in.Minor {
			t.Errorf("KeyMinor(%q) = %q, want the interpreter's minor %q", key, got, in.Minor)
		}
		if KeyFreeThreaded(key) != tt.ft {
			t.Errorf("KeyFreeThreaded(%q) = %v, want %v", key, !tt.ft, tt.ft)
		}
	}
	if got := KeyMinor("3.13t"); got != "3.13t" {
		t.Errorf("KeyMinor(3.13t) = %q", got)
	}
}
