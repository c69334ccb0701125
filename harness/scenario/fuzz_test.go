package scenario

import (
	"bytes"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives Marshal: Marshal's output parses to the same scenario, is a
// fixed point, and keeps the Hash.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a scenario and an error")
			}
			if err.Error() == "" {
				t.Fatalf("empty error")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		out := Marshal(s)
		if !bytes.HasPrefix(out, []byte("forkfuzz: 1\n")) {
			t.Fatalf("Marshal does not start with the version:\n%s", out)
		}
		roundTrip(t, s)
	})
}

// FuzzMarshalText aims at the one free-text field: any about that Validate
// accepts must come back unchanged through Marshal and Parse.
func FuzzMarshalText(f *testing.F) {
	for _, s := range []string{"x", "\nx", "a\n\n", " a ", "\t", "#", "a: b", "\"'\\", "é\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, about string) {
		s := built()
		s.About = about
		if s.Validate() != nil {
			return
		}
		roundTrip(t, s)
	})
}
