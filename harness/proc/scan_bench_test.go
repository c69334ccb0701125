package proc

import (
	"os"
	"testing"
)

// BenchmarkScanCold reads every stat in /proc: the cost without the cache.
func BenchmarkScanCold(b *testing.B) {
	for b.Loop() {
		if _, err := NewScanner().Scan(map[int]bool{os.Getpid(): true}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanWarm is one poll tick with the foreign-pid cache warm.
func BenchmarkScanWarm(b *testing.B) {
	s := NewScanner()
	for b.Loop() {
		if _, err := s.Scan(map[int]bool{-1: true}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlockedSelf is the cost of one failing proof on a multi-threaded
// process (this test binary).
func BenchmarkBlockedSelf(b *testing.B) {
	for b.Loop() {
		if _, _, err := Blocked(os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
}
