package bench

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// TestRunJSON runs a tiny real bench (short measurements, two library
// scenarios) and checks that the JSON has every field of the report, and
// that every measurement produced a figure.
func TestRunJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	ctx := context.Background()
	py, err := python.Default(ctx)
	if err != nil {
		t.Skip(err)
	}
	var library []*scenario.Scenario
	for _, f := range []string{"lock-held-by-thread.yaml", "threads-holding-nothing.yaml"} {
		s, err := scenario.ParseFile(filepath.Join("../../scenarios", f))
		if err != nil {
			t.Fatal(err)
		}
		library = append(library, s)
	}
	r, err := Run(ctx, Options{Python: py, Scenarios: library, Dir: t.TempDir(), Duration: 300 * time.Millisecond,
		Jobs: 2, StartRuns: 2, NaiveRuns: 1, NaiveTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	data, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	checkFields(t, "", reflect.TypeOf(Report{}), got)

	if len(r.Throughput) != len(scenario.Methods) {
		t.Errorf("%d throughput figures, want one per method", len(r.Throughput))
	}
	for _, tp := range r.Throughput {
		if tp.Executions == 0 || tp.PerSec <= 0 || tp.Unexpected != 0 {
			t.Errorf("throughput %+v: want executions, a rate and no unexpected verdict", tp)
		}
	}
	if r.Detect.Samples == 0 || r.Detect.P95MS < r.Detect.P50MS {
		t.Errorf("detect %+v: want samples and p95 >= p50", r.Detect)
	}
	if r.Naive.Runs != 1 || r.Naive.TimedOut != 1 || r.Naive.ElapsedP50MS < 1000 {
		t.Errorf("naive %+v: want one run that only the 1 s timeout ended", r.Naive)
	}
	if r.Floors.ForkPerSec <= 0 || r.Floors.StartMS <= 0 || r.Floors.SpawnMS <= r.Floors.MPStartMS {
		t.Errorf("floors %+v: want each, and a spawn round trip dearer than one start", r.Floors)
	}
	if r.SpawnCaseMS <= 0 || r.Ratios.NaiveOverForkfuzz <= 0 || r.Ratios.SpawnOverFloor <= 0 || r.Ratios.ForkOverFloor <= 0 {
		t.Errorf("spawn case %v ms, ratios %+v: want every figure", r.SpawnCaseMS, r.Ratios)
	}
	if len(r.Targets) != 4 || r.Targets[0].Status != NA || !strings.Contains(r.Executor, "not available") {
		t.Errorf("targets %+v, executor %q: want 4, the executor's N/A", r.Targets, r.Executor)
	}
	if !strings.Contains(r.Text(), "executor: not available") {
		t.Error("the table does not say the executor is not available")
	}
}

// checkFields checks that every JSON field of typ is a key of m, down into
// nested structs and the first element of slices of structs.
func checkFields(t *testing.T, prefix string, typ reflect.Type, m map[string]any) {
	t.Helper()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		v, ok := m[name]
		if !ok {
			t.Errorf("JSON lacks %s%s", prefix, name)
			continue
		}
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}):
			sub, _ := v.(map[string]any)
			checkFields(t, prefix+name+".", ft, sub)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			list, _ := v.([]any)
			if len(list) == 0 {
				t.Errorf("JSON %s%s is empty", prefix, name)
				continue
			}
			sub, _ := list[0].(map[string]any)
			checkFields(t, prefix+name+"[0].", ft.Elem(), sub)
		}
	}
}
