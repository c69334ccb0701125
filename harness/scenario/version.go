package scenario

import (
	"fmt"
	"strconv"
	"strings"
)

// versionRange is a parsed python: range over major.minor versions,
// inclusive at both ends. The zero value selects every version.
type versionRange struct {
	lo, hi [2]int
	any    bool
}

var maxVersion = [2]int{1 << 30, 1 << 30}

// parseRange parses "", "3.12", ">=3.12", ">3.8", "<3.12", "<=3.11" and
// "3.8-3.11".
func parseRange(spec string) (versionRange, error) {
	bad := fmt.Errorf(`invalid python version range %s (want "3.12", ">=3.12", "<3.12", ">3.8", "<=3.11" or "3.8-3.11")`, quote(spec))
	if spec == "" {
		return versionRange{any: true}, nil
	}
	one := func(s string) ([2]int, bool) {
		v, rest, ok := parseVersion(s)
		return v, ok && rest == ""
	}
	var r versionRange
	var ok bool
	switch {
	case strings.HasPrefix(spec, ">="):
		r.lo, ok = one(spec[2:])
		r.hi = maxVersion
	case strings.HasPrefix(spec, "<="):
		r.hi, ok = one(spec[2:])
	case strings.HasPrefix(spec, ">"):
		r.lo, ok = one(spec[1:])
		r.lo[1]++
		r.hi = maxVersion
	case strings.HasPrefix(spec, "<"):
		r.hi, ok = one(spec[1:])
		if r.hi[1] == 0 {
			// <3.0 ends at the last 2.x release, whatever its minor.
			r.hi = [2]int{r.hi[0] - 1, maxVersion[1]}
		} else {
			r.hi[1]--
		}
	case strings.Contains(spec, "-"):
		lo, hi, _ := strings.Cut(spec, "-")
		var okLo, okHi bool
		r.lo, okLo = one(lo)
		r.hi, okHi = one(hi)
		ok = okLo && okHi && !less(r.hi, r.lo)
	default:
		r.lo, ok = one(spec)
		r.hi = r.lo
	}
	if !ok {
		return versionRange{}, bad
	}
	return r, nil
}

// parseVersion reads "MAJOR.MINOR" and returns what follows it (".1",
// "t", "rc1", ...). Numbers have at most 4 digits, so nothing overflows.
func parseVersion(s string) (v [2]int, rest string, ok bool) {
	num := func(s string) (int, string, bool) {
		i := 0
		for i < len(s) && i < 5 && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 4 {
			return 0, s, false
		}
		n, err := strconv.Atoi(s[:i])
		return n, s[i:], err == nil
	}
	major, s, ok1 := num(s)
	if !ok1 || !strings.HasPrefix(s, ".") {
		return v, s, false
	}
	minor, s, ok2 := num(s[1:])
	if !ok2 {
		return v, s, false
	}
	return [2]int{major, minor}, s, true
}

func less(a, b [2]int) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }

// MatchVersion reports whether a Python version ("3.12.1", "3.12", "3.13t")
// lies in a range spec as written in expect's python: key. Only major and
// minor take part: "3.12" selects every 3.12.x.
func MatchVersion(spec, version string) (bool, error) {
	r, err := parseRange(spec)
	if err != nil {
		return false, err
	}
	v, rest, ok := parseVersion(strings.TrimSpace(version))
	if !ok || !validSuffix(rest) {
		return false, fmt.Errorf("invalid python version %s (want e.g. 3.12 or 3.12.1)", quote(version))
	}
	if r.any {
		return true, nil
	}
	return !less(v, r.lo) && !less(r.hi, v), nil
}

// validSuffix accepts what may follow major.minor in a version string: a
// patch number, a pre-release tag, a free-threading "t", a "+".
func validSuffix(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r == '.' || r == '+') {
			return false
		}
	}
	return true
}

// Expected returns the verdict expected for method on a Python version:
// the last expect block whose range matches the version and that names the
// method wins. ok is false when no block says anything.
func (s *Scenario) Expected(version, method string) (v Verdict, ok bool) {
	for _, e := range s.Expect {
		m, err := MatchVersion(e.Python, version)
		if err != nil || !m {
			continue
		}
		if x, named := e.Verdicts[method]; named {
			v, ok = x, true
		}
	}
	return v, ok
}

// ExpectedUsed is the verdict expected of a run under method that used the
// start method used: for MethodDefault, what expect: says of default, else
// of the method the interpreter chose.
func (s *Scenario) ExpectedUsed(version, method, used string) (Verdict, bool) {
	if v, ok := s.Expected(version, method); ok || method != MethodDefault || used == "" {
		return v, ok
	}
	return s.Expected(version, used)
}
