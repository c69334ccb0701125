package scenario

import "testing"

func TestMatchVersion(t *testing.T) {
	for _, tc := range []struct {
		spec, version string
		want          bool
		err           bool
	}{
		{"", "3.12.1", true, false},
		{"3.12", "3.12.1", true, false},
		{"3.12", "3.12", true, false},
		{"3.12", "3.13", false, false},
		{"3.13", "3.13t", true, false},
		{">=3.12", "3.12.0", true, false},
		{">=3.12", "3.11.7", false, false},
		{">=3.12", "3.13t", true, false},
		{"<3.12", "3.11.7", true, false},
		{"<3.12", "3.12.1", false, false},
		{"<3.0", "2.7.18", true, false},
		{">3.8", "3.8.18", false, false},
		{">3.8", "3.9.18", true, false},
		{"<=3.11", "3.11.7", true, false},
		{"<=3.11", "3.12", false, false},
		{"3.8-3.11", "3.8.18", true, false},
		{"3.8-3.11", "3.10.13", true, false},
		{"3.8-3.11", "3.11.7", true, false},
		{"3.8-3.11", "3.12.1", false, false},
		{"3.8-3.11", "3.7.17", false, false},
		{"3.10", "3.1", false, false},
		{"3.1", "3.10", false, false},
		{"3.12", "3.14.0rc1", false, false},
		{"~3.12", "3.12", false, true},
		{"3", "3.12", false, true},
		{"3.12.1", "3.12.1", false, true},
		{">= 3.12", "3.12", false, true},
		{"3.11-3.8", "3.9", false, true},
		{"3.8-", "3.9", false, true},
		{"99999.1", "3.9", false, true},
		{"3.12", "", false, true},
		{"3.12", "python3.12", false, true},
		{"3.12", "3.12 beta", false, true},
	} {
		got, err := MatchVersion(tc.spec, tc.version)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("MatchVersion(%q, %q) = %v, %v; want %v, error %v", tc.spec, tc.version, got, err, tc.want, tc.err)
		}
	}
}

func TestExpected(t *testing.T) {
	s := &Scenario{Expect: []Expect{
		{Verdicts: map[string]Verdict{MethodFork: Deadlock, MethodSpawn: OK}},
		{Python: ">=3.12", Verdicts: map[string]Verdict{MethodFork: OK}},
		{Python: "3.13", Verdicts: map[string]Verdict{MethodSpawn: Hang}},
	}}
	for _, tc := range []struct {
		version, method string
		want            Verdict
		ok              bool
	}{
		{"3.11.7", MethodFork, Deadlock, true},
		{"3.12.1", MethodFork, OK, true},
		{"3.13.0", MethodFork, OK, true},
		{"3.13.0", MethodSpawn, Hang, true},
		{"3.12.1", MethodSpawn, OK, true},
		{"3.12.1", MethodForkserver, "", false},
		{"junk", MethodFork, "", false},
	} {
		got, ok := s.Expected(tc.version, tc.method)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Expected(%q, %q) = %q, %v; want %q, %v", tc.version, tc.method, got, ok, tc.want, tc.ok)
		}
	}
}
