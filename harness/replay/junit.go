package replay

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
)

// JUnit XML, as CI report publishers read it: <testsuites> holding one
// <testsuite> per Python version, one <testcase> per entry x version x
// method, classname the entry ID and name "python 3.12.1 fork". A failure's
// message is the one-line reason; its text carries the proof and the stuck
// stack. Entries that did not load are in a suite named "corpus", one
// <testcase name="load"> each, classname its first bad file, with an <error>
// (not a <failure>: nothing was compared), so that failures and errors count
// what the summary line does.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
	secs     float64
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report of cases, and of the entries that did not load
// (loadErrs, one error per entry, named by its file), to path, atomically.
func WriteJUnit(path string, cases []*Case, loadErrs []error) error {
	data, err := JUnit(cases, loadErrs)
	if err == nil {
		err = atomicfile.Write(path, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// JUnit renders the report WriteJUnit writes.
func JUnit(cases []*Case, loadErrs []error) ([]byte, error) {
	top := junitSuites{Name: "forkfuzz replay"}
	index := map[string]int{}
	var total float64
	for _, c := range cases {
		i, ok := index[c.Version]
		if !ok {
			i = len(top.Suites)
			index[c.Version] = i
			top.Suites = append(top.Suites, junitSuite{Name: "python " + c.Version})
		}
		s := &top.Suites[i]
		secs := seconds(c)
		total += secs
		tc := junitCase{Classname: c.Entry.ID, Name: c.Name(), Time: fmt.Sprintf("%.3f", secs)}
		switch {
		case c.Status == "":
			tc.Skipped = &junitSkipped{Message: "not run (interrupted)"}
		case c.Status == New:
			tc.Skipped = &junitSkipped{Message: c.Reason}
			if c.Updated {
				tc.Skipped.Message = strings.Replace(c.Reason, "(use --update)", "(recorded)", 1)
			}
		case c.Failed():
			tc.Failure = &junitFailure{Message: c.Reason, Type: string(c.Status), Text: evidence(c)}
		}
		s.add(tc, secs)
	}
	if bad := Unreadables(loadErrs); len(bad) > 0 {
		s := junitSuite{Name: "corpus"}
		for _, u := range bad {
			s.add(junitCase{Classname: u.File(), Name: "load", Time: "0.000",
				Error: &junitFailure{Message: u.Errs[0].Error(), Type: "unreadable", Text: u.Reason()}}, 0)
		}
		top.Suites = append(top.Suites, s)
	}
	for _, s := range top.Suites {
		top.Tests += s.Tests
		top.Failures += s.Failures
		top.Errors += s.Errors
		top.Skipped += s.Skipped
	}
	top.Time = fmt.Sprintf("%.3f", total)
	out, err := xml.MarshalIndent(top, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func (s *junitSuite) add(tc junitCase, secs float64) {
	s.Cases = append(s.Cases, tc)
	s.Tests++
	if tc.Failure != nil {
		s.Failures++
	}
	if tc.Error != nil {
		s.Errors++
	}
	if tc.Skipped != nil {
		s.Skipped++
	}
	s.secs += secs
	s.Time = fmt.Sprintf("%.3f", s.secs)
}

func seconds(c *Case) float64 {
	var ms float64
	for _, r := range c.Results {
		ms += r.ElapsedMS
	}
	return ms / 1000
}

// evidence is a failure's text: the reason, each run's verdict with its proof
// and stuck stack, and the stack recorded with the entry.
func evidence(c *Case) string {
	var b strings.Builder
	fmt.Fprintln(&b, c.Reason)
	fmt.Fprintf(&b, "entry: %s (signature %s)\n", c.Entry.ID, c.Entry.Meta.Signature)
	for i, r := range c.Results {
		fmt.Fprintf(&b, "\nrun %d: %s", i+1, r.Verdict)
		if r.Where != "" {
			fmt.Fprintf(&b, " (%s)", r.Where)
		}
		fmt.Fprintf(&b, ", %.0f ms\n", r.ElapsedMS)
		if r.Proof != "" {
			fmt.Fprintf(&b, "proof: %s\n", r.Proof)
		}
		if r.Reason != "" {
			fmt.Fprintf(&b, "reason: %s\n", r.Reason)
		}
		if r.Stack != "" {
			fmt.Fprintf(&b, "stuck stack:\n%s\n", strings.TrimRight(r.Stack, "\n"))
		}
	}
	if st := c.Entry.Meta.Stack; st != "" {
		fmt.Fprintf(&b, "\nstuck stack as recorded:\n%s\n", strings.TrimRight(st, "\n"))
	}
	return b.String()
}
