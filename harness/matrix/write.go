package matrix

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
)

// Markdown writes the matrix for a person: the table, the legend of codes,
// and what to do per resource kind.
func (m *Matrix) Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Fork-safety matrix\n\n")
	fmt.Fprintf(&b, "Written by `forkfuzz matrix`: %d cases on Python %s under %s.\n\n",
		len(m.Rows), strings.Join(m.Pythons, ", "), strings.Join(m.Methods, ", "))
	b.WriteString("| resource (scenario) |")
	for _, c := range m.Columns {
		fmt.Fprintf(&b, " %s %s |", c.Python, c.Method)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(m.Columns)))
	b.WriteString("\n")
	for _, r := range m.Rows {
		fmt.Fprintf(&b, "| %s |", r.Label())
		for _, c := range r.Cells {
			fmt.Fprintf(&b, " %s |", c.Code())
		}
		b.WriteString("\n")
	}
	b.WriteString("\n" + Legend + "\n\n## What to do, per resource kind\n\n")
	for _, a := range m.Advice() {
		fmt.Fprintf(&b, "- **%s**: %s.\n", a.Kind, a.Text)
	}
	return b.Bytes()
}

// CSV writes one line per cell: kind, scenario, source, python, method,
// verdict, code, where, reason.
func (m *Matrix) CSV() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"kind", "scenario", "source", "python", "method", "verdict", "code", "where", "reason"})
	for _, r := range m.Rows {
		for i, col := range m.Columns {
			c := r.Cells[i]
			w.Write([]string{string(r.Kind), r.Name, r.Source, col.Python, col.Method, string(c.Verdict), c.Code(), c.Where, c.Reason})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("matrix csv: %w", err)
	}
	return b.Bytes(), nil
}

// jsonMatrix is the JSON form: columns once, each row's cells aligned with
// them, and the advice per kind.
type jsonMatrix struct {
	Pythons []string  `json:"pythons"`
	Methods []string  `json:"methods"`
	Columns []Column  `json:"columns"`
	Rows    []jsonRow `json:"rows"`
	Advice  []Advice  `json:"advice"`
	Legend  string    `json:"legend"`
}

type jsonRow struct {
	Row
	Cells []jsonCell `json:"cells"`
}

type jsonCell struct {
	Column
	Cell
	Code string `json:"code"`
}

// JSON writes the matrix as one indented JSON object.
func (m *Matrix) JSON() ([]byte, error) {
	out := jsonMatrix{Pythons: m.Pythons, Methods: m.Methods, Columns: m.Columns, Advice: m.Advice(), Legend: Legend}
	for _, r := range m.Rows {
		jr := jsonRow{Row: r, Cells: []jsonCell{}}
		for i, col := range m.Columns {
			jr.Cells = append(jr.Cells, jsonCell{Column: col, Cell: r.Cells[i], Code: r.Cells[i].Code()})
		}
		out.Rows = append(out.Rows, jr)
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("matrix json: %w", err)
	}
	return append(data, '\n'), nil
}
