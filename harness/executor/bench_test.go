package executor_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// BenchmarkForkLibrary runs the whole scenario library under the fork method
// on python3 (FORKFUZZ_BENCH_PYTHON overrides), with a fresh interpreter per
// execution and on the executor, FORKFUZZ_BENCH_JOBS at a time (default 4).
// It reports executions per second of wall time, and the CPU time one
// execution costs (forkfuzz, the programs and what they forked, and the
// server): on a busy machine wall time says little, and 2 cores / cpu-ms is
// the rate the work allows.
func BenchmarkForkLibrary(b *testing.B) {
	py := os.Getenv("FORKFUZZ_BENCH_PYTHON")
	if py == "" {
		in, err := python.Default(context.Background()) // the real binary, not a pyenv shim
		if err != nil {
			b.Skipf("no python3: %v", err)
		}
		py = in.Path
	}
	jobs, _ := strconv.Atoi(os.Getenv("FORKFUZZ_BENCH_JOBS"))
	if jobs < 1 {
		jobs = 4
	}
	progs := library(b)
	for _, mode := range []string{"fresh", "executor"} {
		b.Run(fmt.Sprintf("%s/jobs=%d", mode, jobs), func(b *testing.B) {
			ctx := context.Background()
			var pool *executor.Pool
			if mode == "executor" {
				pool = executor.NewPool(ctx)
				defer pool.Close()
			}
			var xs []run.Execution
			for name, prog := range progs {
				xs = append(xs, run.Execution{Name: name, Program: prog, Python: py,
					Method: scenario.MethodFork, Timeout: 20 * time.Second, Executor: pool})
			}
			run.ExecuteAll(ctx, xs[:1], 1, nil) // starts the server outside the timing
			n, start := 0, time.Now()
			self0, py0, srv0 := cpuTime(b, pool)
			for b.Loop() {
				for _, r := range run.ExecuteAll(ctx, xs, jobs, nil) {
					if r.Verdict == scenario.Hang || r.Verdict == "error" {
						b.Fatalf("%s: %s: %s", r.Scenario, r.Verdict, r.Reason)
					}
				}
				n += len(xs)
			}
			self1, py1, srv1 := cpuTime(b, pool)
			perExec := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(n) }
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "execs/s")
			b.ReportMetric(perExec(self1-self0), "go-cpu-ms/exec")
			b.ReportMetric(perExec(py1-py0), "py-cpu-ms/exec")
			if pool != nil {
				b.ReportMetric(perExec(srv1-srv0), "server-cpu-ms/exec")
			}
		})
	}
}

// cpuTime is the CPU time used so far by this process, and by Python: its
// reaped descendants, and every server of pool with its reaped cases; and
// by the servers alone (forking and serving: the part one server serialises).
func cpuTime(b testing.TB, pool *executor.Pool) (self, py, servers time.Duration) {
	var us, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &us)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	self, py = tv(us.Utime)+tv(us.Stime), tv(kids.Utime)+tv(kids.Stime)
	if pool == nil {
		return self, py, 0
	}
	for _, s := range pool.Servers() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid))
		if err != nil {
			b.Fatal(err)
		}
		// Fields after "(comm)": utime stime cutime cstime are 14-17 of stat(5).
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		for _, i := range []int{11, 12, 13, 14} {
			ticks, _ := strconv.Atoi(f[i])
			d := time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100
			py += d
			if i < 13 {
				servers += d
			}
		}
	}
	return self, py, servers
}

// BenchmarkForkScenario runs each library scenario alone on the executor,
// one execution at a time, and reports what one execution of it costs:
// where the CPU goes scenario by scenario (a Pool forks its workers, a
// logging or sqlite scenario imports those modules in every case).
func BenchmarkForkScenario(b *testing.B) {
	in, err := python.Default(context.Background())
	if err != nil {
		b.Skipf("no python3: %v", err)
	}
	ctx := context.Background()
	pool := executor.NewPool(ctx)
	defer pool.Close()
	progs := library(b)
	names := make([]string, 0, len(progs))
	for name := range progs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			x := run.Execution{Name: name, Program: progs[name], Python: in.Path, Method: scenario.MethodFork,
				Timeout: 20 * time.Second, Executor: pool}
			run.ExecuteAll(ctx, []run.Execution{x}, 1, nil) // the server starts outside the timing
			n, start := 0, time.Now()
			self0, py0, _ := cpuTime(b, pool)
			for b.Loop() {
				if r := run.Execute(ctx, x); r.Verdict == scenario.Hang || r.Verdict == "error" {
					b.Fatalf("%s: %s: %s", name, r.Verdict, r.Reason)
				}
				n++
			}
			self1, py1, _ := cpuTime(b, pool)
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "execs/s")
			b.ReportMetric((self1-self0).Seconds()*1000/float64(n), "go-cpu-ms/exec")
			b.ReportMetric((py1-py0).Seconds()*1000/float64(n), "py-cpu-ms/exec")
		})
	}
}
