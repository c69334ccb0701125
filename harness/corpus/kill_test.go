package corpus

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// TestWriterKilled runs a writer process that adds and merges entries
// without pause, kills it with SIGKILL at random moments, and checks after
// each kill that every entry loads: complete or absent, never half written.
func TestWriterKilled(t *testing.T) {
	if dir := os.Getenv("FORKFUZZ_CORPUS_WRITER"); dir != "" {
		writeForever(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("kills a writer process many times")
	}
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("FORKFUZZ_TEST_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (FORKFUZZ_TEST_SEED)", seed)
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	for i := 0; i < 25; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriterKilled$")
		cmd.Env = append(os.Environ(), "FORKFUZZ_CORPUS_WRITER="+dir, "FORKFUZZ_WRITER_SEED="+strconv.Itoa(i))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The writer starts in about 10 ms; kill it from then to 300 ms in.
		time.Sleep(time.Duration(10+rng.Intn(290)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		entries, errs := Load(dir)
		if len(errs) > 0 {
			t.Fatalf("kill %d: %d entries load, errors: %q", i, len(entries), errs)
		}
	}
	entries, _ := Load(dir)
	if len(entries) == 0 {
		t.Fatal("the writer never completed an entry: the kills prove nothing")
	}
	t.Logf("%d entries after 25 kills", len(entries))
}

// writeForever writes entries into dir until killed: new ones and merges
// into those already there (same ID or same signature).
func writeForever(t *testing.T, dir string) {
	n, _ := strconv.Atoi(os.Getenv("FORKFUZZ_WRITER_SEED"))
	for i := 0; ; i++ {
		e := testEntry(t, "lock", signature.Signature{Kind: "lock", Held: fmt.Sprintf("h%d", (n*1000+i)%40)})
		// A pool with another number of tasks is another scenario, so another ID.
		f := e.Scenario.Main[len(e.Scenario.Main)-1].Fork
		f.Via, f.Tasks = scenario.ViaPool, 1+(n*1000+i)%40
		e.ID = idOf(e.Scenario)
		e.Meta.Stack = strings.Repeat("  File \"x.py\", line 1 in f\n", 2000) // a longer write to land in
		if _, err := Write(dir, e); err != nil {
			t.Fatal(err)
		}
	}
}
