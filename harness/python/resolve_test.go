package python

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestSplitSpecs(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"3.12"}, []string{"3.12"}},
		{[]string{"3.12,3.13t", " all "}, []string{"3.12", "3.13t", "all"}},
		{[]string{",/usr/bin/python3,,"}, []string{"/usr/bin/python3"}},
	}
	for _, tt := range tests {
		if got := splitSpecs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitSpecs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVersionSpec(t *testing.T) {
	tests := map[string]bool{
		"3.12": true, "3.13t": true, "3.12.1": true, "3.14.0t": true, "3.8": true,
		"all": false, "3": false, "python3.12": false, "/usr/bin/python3": false, "3.12tt": false, "./3.12": false,
	}
	for spec, want := range tests {
		if got := versionSpec.MatchString(spec); got != want {
			t.Errorf("versionSpec.MatchString(%q) = %v, want %v", spec, got, want)
		}
	}
}

func TestPick(t *testing.T) {
	found := []Interpreter{
		{Path: "/p/3.8", Version: "3.8.18", Minor: "3.8", Source: SourcePyenv},
		{Path: "/usr/bin/python3.11", Version: "3.11.2", Minor: "3.11", Source: SourcePATH},
		{Path: "/p/3.11.7", Version: "3.11.7", Minor: "3.11", Source: SourcePyenv},
		{Path: "/p/3.12.1", Version: "3.12.1", Minor: "3.12", Source: SourcePyenv},
		{Path: "/p/3.12.4", Version: "3.12.4", Minor: "3.12", Source: SourcePyenv},
		{Path: "/p/3.13", Version: "3.13.0", Minor: "3.13", Source: SourcePyenv},
		{Path: "/p/3.13t", Version: "3.13.0", Minor: "3.13t", Source: SourcePyenv, FreeThreaded: true},
	}
	tests := []struct {
		spec     string
		wantPath string // "" for no match
	}{
		{"3.8", "/p/3.8"},
		{"3.11", "/usr/bin/python3.11"}, // PATH beats a newer pyenv one
		{"3.12", "/p/3.12.4"},           // the newest of one source
		{"3.12.1", "/p/3.12.1"},
		{"3.13", "/p/3.13"},
		{"3.13t", "/p/3.13t"},
		{"3.13.0t", "/p/3.13t"},
		{"3.9", ""},
		{"3.14t", ""},
		{"3.1", ""},
	}
	for _, tt := range tests {
		got, ok := pick(found, tt.spec)
		if ok != (tt.wantPath != "") || got.Path != tt.wantPath {
			t.Errorf("pick(%q) = %q, %v; want %q", tt.spec, got.Path, ok, tt.wantPath)
		}
	}
	if got := minors(found); got != "3.8, 3.11, 3.12, 3.13, 3.13t" {
		t.Errorf("minors = %q", got)
	}
}

func TestNewest(t *testing.T) {
	tests := []struct {
		found []Interpreter
		want  string
	}{
		{[]Interpreter{{Path: "a", Minor: "3.12"}, {Path: "b", Minor: "3.13"}}, "b"},
		{[]Interpreter{{Path: "a", Minor: "3.13"}, {Path: "b", Minor: "3.13t", FreeThreaded: true}}, "a"},
		{[]Interpreter{{Path: "a", Minor: "3.12"}, {Path: "b", Minor: "3.13t", FreeThreaded: true}}, "b"},
	}
	for _, tt := range tests {
		if got := newest(tt.found); got.Path != tt.want {
			t.Errorf("newest(%v) = %q, want %q", tt.found, got.Path, tt.want)
		}
	}
}

// With nothing on PATH and an empty pyenv root, Default must say so plainly.
func TestDefaultNothingFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("PYENV_ROOT", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	_, err := Default(context.Background())
	if err == nil {
		t.Fatal("Default found an interpreter on an empty PATH")
	}
	for _, want := range []string{"no CPython >= 3.8 found", "python3 is not on PATH", "pyenv root"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Default error %q does not say %q", err, want)
		}
	}
	if _, _, err := Resolve(context.Background(), []string{"all"}); err == nil {
		t.Error("Resolve(all) on an empty PATH gave no error")
	}
	if _, _, err := Resolve(context.Background(), []string{"3.12"}); err == nil || !strings.Contains(err.Error(), "no Python 3.12 found (found: none)") {
		t.Errorf("Resolve(3.12) on an empty PATH: %v", err)
	}
}
