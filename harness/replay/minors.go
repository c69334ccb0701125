package replay

import (
	"fmt"
	"sort"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
)

// NewMinor sums up the cases of one Python minor that had nothing recorded:
// what they were compared with and how each came out.
type NewMinor struct {
	Minor    string         `json:"minor"`    // "3.14", "3.14t"
	Versions []string       `json:"versions"` // the versions run: "3.14.10"
	Compared map[string]int `json:"compared_with"`
	// Counts by status: unchanged, fixed, broke, changed, flaky, and new
	// (nothing older recorded either).
	Counts map[Status]int `json:"counts"`
}

// NewMinors lists, minor by minor in version order, the cases whose minor
// had nothing recorded for them. Cases not run are left out.
func NewMinors(cases []*Case) []NewMinor {
	byMinor := map[string]*NewMinor{}
	var order []string
	for _, c := range cases {
		if c.Status == "" || c.Recorded != "" {
			continue
		}
		m := python.KeyMinor(c.Version)
		nm := byMinor[m]
		if nm == nil {
			nm = &NewMinor{Minor: m, Compared: map[string]int{}, Counts: map[Status]int{}}
			byMinor[m] = nm
			order = append(order, m)
		}
		if !contains(nm.Versions, c.Version) {
			nm.Versions = append(nm.Versions, c.Version)
		}
		if c.ComparedWith != "" {
			nm.Compared[c.ComparedWith]++
		}
		nm.Counts[c.Status]++
	}
	sort.Slice(order, func(i, j int) bool { return corpus.VersionLess(order[i], order[j]) })
	out := make([]NewMinor, 0, len(order))
	for _, m := range order {
		out = append(out, *byMinor[m])
	}
	return out
}

// String is the summary line of a new minor: "3.14 (3.14.10) had nothing
// recorded: compared with 3.13.0: 64 unchanged, 1 fixed in 3.14, 1 broke in
// 3.14, 0 changed". Every count is given, zeros too, except flaky and new.
func (nm NewMinor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) had nothing recorded", nm.Minor, strings.Join(nm.Versions, ", "))
	if len(nm.Compared) > 0 {
		with := sortedVersions(nm.Compared)
		if len(with) > 1 {
			for i, v := range with {
				with[i] = fmt.Sprintf("%s (%d)", v, nm.Compared[v])
			}
		}
		fmt.Fprintf(&b, ": compared with %s: %d unchanged, %d fixed in %s, %d broke in %s, %d changed",
			strings.Join(with, ", "), nm.Counts[Unchanged], nm.Counts[Fixed], nm.Minor, nm.Counts[Broke], nm.Minor, nm.Counts[Changed])
	}
	if n := nm.Counts[Flaky]; n > 0 {
		fmt.Fprintf(&b, ", %d flaky", n)
	}
	if n := nm.Counts[New]; n > 0 {
		fmt.Fprintf(&b, ", %d new (no older minor recorded)", n)
	}
	return b.String()
}

func sortedVersions(m map[string]int) []string {
	vs := make([]string, 0, len(m))
	for v := range m {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return corpus.VersionLess(vs[i], vs[j]) })
	return vs
}
