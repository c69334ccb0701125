package fuzz

import (
	"os"
	"strconv"
	"testing"
)

// testSeed is the seed of a test: def, or FORKFUZZ_SEED when set. It is logged
// so that a failure can be replayed.
func testSeed(t testing.TB, def int64) int64 {
	t.Helper()
	seed := def
	if v := os.Getenv("FORKFUZZ_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("FORKFUZZ_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("seed %d (set FORKFUZZ_SEED to replay another)", seed)
	return seed
}
