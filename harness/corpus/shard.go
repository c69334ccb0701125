package corpus

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard returns the entries of shard k of n (1-based k). An entry belongs to
// shard (h mod n)+1, where h is its ID read as a 64-bit hex number (the first
// 16 hex digits of its scenario's sha256). So the split depends on nothing but
// the IDs: every machine of a CI matrix computes the same shards, each entry
// is in exactly one, and adding an entry never moves another.
func Shard(entries []*Entry, k, n int) []*Entry {
	if n < 1 || k < 1 || k > n {
		return nil
	}
	var out []*Entry
	for _, e := range entries {
		if int(shardHash(e.ID)%uint64(n)) == k-1 {
			out = append(out, e)
		}
	}
	return out
}

func shardHash(id string) uint64 {
	if h, err := strconv.ParseUint(id, 16, 64); err == nil {
		return h
	}
	// Not a corpus ID (Load refuses those); still place it deterministically.
	f := fnv.New64a()
	f.Write([]byte(id))
	return f.Sum64()
}

// ParseShard reads "k/n" (1 <= k <= n), as --shard takes it.
func ParseShard(s string) (k, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		k, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			n, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("bad shard %q: want k/n with 1 <= k <= n, like 2/4", s)
	}
	return k, n, nil
}
