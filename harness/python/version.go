package python

import (
	"fmt"
	"strconv"
	"strings"
)

// minVersion is the oldest Python the scenarios support.
var minVersion = [3]int{3, 8, 0}

// parseVersion reads "3.11.7" or "3.14.0rc1" into its numeric parts; a
// pre-release suffix is ignored since it does not change the minor.
func parseVersion(s string) ([3]int, error) {
	var v [3]int
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 {
		return v, fmt.Errorf("version %q: want MAJOR.MINOR.MICRO", s)
	}
	for i, p := range parts {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		// Only the micro part may carry a suffix (a1, b2, rc1, +).
		if end == 0 || (i < 2 && end != len(p)) {
			return [3]int{}, fmt.Errorf("version %q: bad part %q", s, p)
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return [3]int{}, fmt.Errorf("version %q: %w", s, err)
		}
		v[i] = n
	}
	return v, nil
}

// Key is the interpreter's verdicts key: its version, with "t" for a
// free-threaded build ("3.14.10t"), which behaves differently at fork and so
// never shares a key with its GIL twin. Every record and lookup of a verdict
// by Python version goes through it: fuzz, corpus add, replay, prove, matrix.
func (in Interpreter) Key() string {
	if in.FreeThreaded && !strings.HasSuffix(in.Version, "t") {
		return in.Version + "t"
	}
	return in.Version
}

// KeyMinor is the minor of a verdicts key, as Interpreter.Minor says it:
// "3.12" for "3.12.1", "3.13t" for "3.13.0t".
func KeyMinor(key string) string {
	parts := strings.SplitN(key, ".", 3)
	if len(parts) < 2 {
		return key
	}
	m := parts[0] + "." + parts[1]
	if KeyFreeThreaded(key) && !strings.HasSuffix(m, "t") {
		m += "t"
	}
	return m
}

// KeyFreeThreaded reports whether a verdicts key names a free-threaded build.
func KeyFreeThreaded(key string) bool { return strings.HasSuffix(key, "t") }

// minorOf is "3.13" or, for a free-threaded build, "3.13t".
func minorOf(v [3]int, freeThreaded bool) string {
	m := fmt.Sprintf("%d.%d", v[0], v[1])
	if freeThreaded {
		m += "t"
	}
	return m
}

func compareVersions(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// less orders interpreters by version; a GIL build before its free-threaded
// twin; then by path so that the order is stable.
func less(a, b Interpreter) bool {
	va, _ := parseVersion(a.Version)
	vb, _ := parseVersion(b.Version)
	if c := compareVersions(va, vb); c != 0 {
		return c < 0
	}
	if a.FreeThreaded != b.FreeThreaded {
		return !a.FreeThreaded
	}
	return a.Path < b.Path
}

// usable says why a probed interpreter cannot run scenarios, or nil.
func usable(in Interpreter) error {
	v, err := parseVersion(in.Version)
	if err != nil {
		return err
	}
	if compareVersions(v, minVersion) < 0 {
		return fmt.Errorf("%s %s is older than %d.%d", displayName(in), in.Version, minVersion[0], minVersion[1])
	}
	if in.Implementation != "CPython" {
		return fmt.Errorf("%s %s is not CPython (the scenarios use CPython internals)", in.Implementation, in.Version)
	}
	return nil
}

// displayName is "Python" for CPython, as people say it, else the implementation.
func displayName(in Interpreter) string {
	if in.Implementation == "CPython" || in.Implementation == "" {
		return "Python"
	}
	return in.Implementation
}
