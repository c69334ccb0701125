package fuzz

import "testing"

// Every case of a campaign falls in exactly one shard, whatever n.
func TestShardsPartitionCases(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5} {
		seen := map[int]int{}
		for k := 1; k <= n; k++ {
			c := &Campaign{cfg: Config{Shard: k, Shards: n}}
			for i := 0; i < 20; i++ {
				g := c.caseIndex(i)
				if g%n != k-1 {
					t.Fatalf("n=%d k=%d: case %d is not in this shard", n, k, g)
				}
				seen[g]++
			}
		}
		for g := 0; g < 20*n; g++ {
			if seen[g] != 1 {
				t.Fatalf("n=%d: case %d run %d times", n, g, seen[g])
			}
		}
	}
}
