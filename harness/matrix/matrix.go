// Package matrix owns the fork-safety matrix: which resource kinds deadlock
// under which start method on which Python version. It runs every case of a
// scenario library and a corpus on every interpreter and start method, keeps
// one cell per run, derives per kind what a reader should do from the cells
// alone, and writes the result as Markdown, CSV and JSON.
package matrix

import (
	"sort"
	"strconv"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Case is one program that the matrix runs: a library scenario or a corpus
// entry, filed under the resource kind it is about.
type Case struct {
	Kind    scenario.Kind
	Name    string // the scenario's name
	Source  string // SourceScenario or SourceCorpus
	Program string // path of the rendered program
	// Unguarded: its threads start at import time, outside the __main__
	// guard, so a spawn or forkserver child starts them again.
	Unguarded bool
}

// Where a case came from.
const (
	SourceScenario = "scenario"
	SourceCorpus   = "corpus"
)

// Column is one Python version under one start method.
type Column struct {
	Python string `json:"python"` // version label: the minor ("3.11"), or the full version when two share a minor
	Method string `json:"method"`
}

// Cell is the verdict of one case in one column. The zero Cell is "not run".
type Cell struct {
	Verdict scenario.Verdict `json:"verdict,omitempty"`
	Where   string           `json:"where,omitempty"`  // the stuck process's role, for a deadlock
	Reason  string           `json:"reason,omitempty"` // one line, for hang, error and crash
}

// Code is the compact form of a cell shown in the table (see Legend).
func (c Cell) Code() string {
	switch c.Verdict {
	case "":
		return "-"
	case scenario.Deadlock:
		if c.Where == "parent" {
			return "PH"
		}
		return "DL"
	case scenario.OK:
		return "ok"
	case scenario.Hang:
		return "hang"
	case scenario.ErrorVerdict:
		return "err"
	case scenario.Crash:
		return "crash"
	}
	return string(c.Verdict)
}

// stuck reports whether the cell never completed: proved or not.
func (c Cell) stuck() bool { return c.Verdict == scenario.Deadlock || c.Verdict == scenario.Hang }

// Legend explains every code a cell can show.
const Legend = "DL = deadlock proved (a child or pool worker waits forever); " +
	"PH = the parent itself deadlocked; ok = every process completed; " +
	"hang = no exit and no proof before the timeout; err = an exception or a non-zero exit; " +
	"crash = a process was killed by a signal; - = not run."

// Row is one case across every column.
type Row struct {
	Kind      scenario.Kind `json:"kind"`
	Name      string        `json:"scenario"`
	Source    string        `json:"source"`
	Unguarded bool          `json:"unguarded,omitempty"` // see Case
	Cells     []Cell        `json:"-"`                   // aligned with Matrix.Columns
}

// Label is the row's heading: "lock (lock-held-by-thread)".
func (r Row) Label() string {
	l := string(r.Kind) + " (" + r.Name + ")"
	if r.Source == SourceCorpus {
		l += " [corpus]"
	}
	return l
}

// Matrix is the whole table.
type Matrix struct {
	Pythons []string // version labels, oldest first
	Methods []string
	Columns []Column // every Python x every method, Python-major
	Rows    []Row    // by kind (scenario.Kinds order), then name, then source
}

// New makes an empty matrix for cases (one row each, sorted) and columns.
func New(cases []Case, pythons, methods []string) *Matrix {
	m, _ := newMatrix(cases, pythons, methods)
	return m
}

// newMatrix is New that also says which row each case went to.
func newMatrix(cases []Case, pythons, methods []string) (*Matrix, []int) {
	m := &Matrix{Pythons: append([]string(nil), pythons...), Methods: append([]string(nil), methods...)}
	sort.SliceStable(m.Pythons, func(i, j int) bool { return lessVersion(m.Pythons[i], m.Pythons[j]) })
	for _, p := range m.Pythons {
		for _, meth := range m.Methods {
			m.Columns = append(m.Columns, Column{p, meth})
		}
	}
	order := make([]int, len(cases))
	for i := range order {
		order[i] = i
	}
	rowOf := make([]int, len(cases))
	sort.SliceStable(order, func(i, j int) bool { return lessRow(rowFor(cases[order[i]]), rowFor(cases[order[j]])) })
	for row, i := range order {
		r := rowFor(cases[i])
		r.Cells = make([]Cell, len(m.Columns))
		m.Rows = append(m.Rows, r)
		rowOf[i] = row
	}
	return m, rowOf
}

func rowFor(c Case) Row {
	return Row{Kind: c.Kind, Name: c.Name, Source: c.Source, Unguarded: c.Unguarded}
}

// Set records a cell; it reports false when row or column does not exist.
func (m *Matrix) Set(row int, python, method string, c Cell) bool {
	col := m.column(python, method)
	if row < 0 || row >= len(m.Rows) || col < 0 {
		return false
	}
	m.Rows[row].Cells[col] = c
	return true
}

// Cell returns a row's cell in a column (the zero Cell when absent).
func (m *Matrix) Cell(row int, python, method string) Cell {
	col := m.column(python, method)
	if row < 0 || row >= len(m.Rows) || col < 0 {
		return Cell{}
	}
	return m.Rows[row].Cells[col]
}

func (m *Matrix) column(python, method string) int {
	for i, c := range m.Columns {
		if c.Python == python && c.Method == method {
			return i
		}
	}
	return -1
}

// Kinds lists the kinds that have rows, in row order.
func (m *Matrix) Kinds() []scenario.Kind {
	var out []scenario.Kind
	for _, r := range m.Rows {
		if len(out) == 0 || out[len(out)-1] != r.Kind {
			out = append(out, r.Kind)
		}
	}
	return out
}

func lessRow(a, b Row) bool {
	if ka, kb := kindRank(a.Kind), kindRank(b.Kind); ka != kb {
		return ka < kb
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Source > b.Source // the library's scenario before a corpus entry of the same name
}

// kindRank orders known kinds as the scenario package lists them, then the
// others.
func kindRank(k scenario.Kind) int {
	for i, known := range scenario.Kinds {
		if k == known {
			return i
		}
	}
	return len(scenario.Kinds)
}

// lessVersion compares version labels numerically ("3.9" < "3.10"); a
// suffix ("3.13t") sorts after the plain version.
func lessVersion(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ra := leadingInt(pa[i])
		nb, rb := leadingInt(pb[i])
		if na != nb {
			return na < nb
		}
		if ra != rb {
			return ra < rb
		}
	}
	return len(pa) < len(pb)
}

func leadingInt(s string) (int, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, _ := strconv.Atoi(s[:i])
	return n, s[i:]
}
