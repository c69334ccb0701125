package fuzz

import (
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// TestGenerateValid generates 10000 scenarios: every one passes Validate, the
// same seed gives the same scenario, and the distribution reaches every
// resource kind (held at the fork and used by the child) and every via.
func TestGenerateValid(t *testing.T) {
	seed := testSeed(t, 1)
	kinds := map[scenario.Kind]int{}
	heldKinds := map[scenario.Kind]int{}
	vias := map[scenario.Via]int{}
	threads := map[int]int{}
	for i := 0; i < 10000; i++ {
		cs := CaseSeed(seed, i)
		s := Generate(cs)
		if err := s.Validate(); err != nil {
			t.Fatalf("case %d (seed %d) is invalid: %v\n%s", i, cs, err, scenario.Marshal(s))
		}
		if again := Generate(cs); again.Hash() != s.Hash() {
			t.Fatalf("case %d (seed %d): two draws differ", i, cs)
		}
		for _, r := range s.Resources {
			kinds[r.Kind]++
		}
		for _, th := range s.Threads {
			for _, st := range th.Steps {
				if st.Resource != "" && (st.Op == scenario.OpTake || st.Op == scenario.OpPark) {
					heldKinds[s.Resource(st.Resource).Kind]++
				}
			}
		}
		vias[s.ForkStep().Fork.Via]++
		threads[len(s.Threads)]++
	}
	for _, k := range scenario.Kinds {
		if kinds[k] == 0 || heldKinds[k] == 0 {
			t.Errorf("kind %s: in %d scenarios, held at the fork in %d", k, kinds[k], heldKinds[k])
		}
	}
	for _, v := range scenario.Vias {
		if vias[v] == 0 {
			t.Errorf("via %s never generated", v)
		}
	}
	for n := 1; n <= 3; n++ {
		if threads[n] == 0 {
			t.Errorf("no scenario with %d threads", n)
		}
	}
	t.Logf("kinds %v\nheld %v\nvias %v\nthreads %v", kinds, heldKinds, vias, threads)
}

func TestCaseSeedDistinct(t *testing.T) {
	seen := map[int64]int{}
	for _, seed := range []int64{0, 1, 2, -1} {
		for i := 0; i < 1000; i++ {
			cs := CaseSeed(seed, i)
			if _, dup := seen[cs]; dup {
				t.Fatalf("CaseSeed(%d, %d) = %d repeats", seed, i, cs)
			}
			seen[cs] = i
		}
	}
}
