package scenario

import (
	"math/rand"
	"testing"
)

func TestZZFindValid(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ok := 0
	for i := 0; i < 2000000 && ok < 3; i++ {
		b := make([]byte, 40+rng.Intn(40))
		rng.Read(b)
		if fuzzScenario(b).Validate() == nil {
			ok++
			t.Logf("%q", b)
		}
	}
	t.Logf("valid: %d", ok)
}
