package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// TestShrinkCommand shrinks a scenario padded around a fork deadlock (real
// runs on python3) and refuses one that does not deadlock under fork.
func TestShrinkCommand(t *testing.T) {
	dir := t.TempDir()
	padded := filepath.Join(dir, "padded.yaml")
	if err := os.WriteFile(padded, []byte(`forkfuzz: 1
name: padded
resources:
  L: lock
  N: rlock
  U: semaphore
threads:
  worker:
    - use: U
    - park: {event: holding, in: L}
  idle:
    - take: N
    - park: idle
    - release: N
main:
  - start: worker
  - start: idle
  - wait: holding
  - wait: idle
  - fork:
      via: pool
      processes: 2
      tasks: 3
      child:
        - use: L
        - exit: normal
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "min")
	if code := shrinkMain([]string{padded, "-o", out}); code != exitOK { // flags after FILE, as the README writes it
		t.Fatalf("shrink padded.yaml: exit %d, want %d", code, exitOK)
	}
	min, err := scenario.ParseFile(out + ".yaml")
	if err != nil {
		t.Fatalf("the minimal scenario does not parse: %v", err)
	}
	if !strings.HasPrefix(min.About, "Shrunk by forkfuzz from padded (padded.yaml): 2 -> 1 threads, 3 -> 1 resources.") {
		t.Errorf("about %q does not say what the minimal scenario is", min.About)
	}
	if len(min.Threads) != 1 || len(min.Resources) != 1 || len(min.ForkStep().Fork.Child) != 1 {
		t.Errorf("not minimal:\n%s", scenario.Marshal(min))
	}
	if _, err := os.Stat(out + ".py"); err != nil {
		t.Errorf("no program written: %v", err)
	}
	ok := filepath.Join("..", "..", "scenarios", "threads-holding-nothing.yaml")
	if code := shrinkMain([]string{ok}); code != exitUsage {
		t.Errorf("shrink of a scenario that completes: exit %d, want %d", code, exitUsage)
	}
	if code := shrinkMain(nil); code != exitUsage {
		t.Errorf("shrink without FILE: exit %d, want %d", code, exitUsage)
	}
}
