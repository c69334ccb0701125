package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestHugeInputs parses inputs near MaxFileSize that are expensive in
// different ways; each must fail quickly with a bounded error list.
func TestHugeInputs(t *testing.T) {
	// A quarter of MaxFileSize keeps the suite fast; a full 1 MiB takes
	// about 1 to 2 s, nearly all of it in yaml.v3.
	const size = MaxFileSize / 4
	for _, tc := range []struct {
		name string
		yaml string
	}{
		{"many unknown keys", "forkfuzz: 1\n" + fill(size, func(i int) string { return "k" + itoa(i) + ": 1\n" })},
		{"many steps", valid + "  - wait: held\n" + fill(size-len(valid)-20, func(int) string { return "  - use: L\n" })},
		{"many parks", strings.Replace(valid, "    - park: held\n", fill(size-len(valid), func(i int) string { return "    - park: e" + itoa(i) + "\n" }), 1)},
		{"many resources", strings.Replace(valid, "  L: lock\n", fill(size-len(valid), func(i int) string { return "  r" + itoa(i) + ": lock\n" }), 1)},
		{"deep flow", "forkfuzz: 1\nname: " + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "\n"},
		{"long string", "forkfuzz: 1\nname: x\nabout: " + strings.Repeat("y", size) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse("big.yaml", []byte(tc.yaml))
			if d := time.Since(start); d > 20*time.Second { // linear work; only a blow-up reaches this
				t.Errorf("Parse took %v", d)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse: %v", err)
			}
			if len(es) > MaxErrors+1 {
				t.Errorf("%d errors, more than MaxErrors+1", len(es))
			}
		})
	}
}

func TestErrorCap(t *testing.T) {
	in := "forkfuzz: 1\n" + fill(2000, func(i int) string { return "k" + itoa(i) + ": 1\n" })
	_, err := Parse("t.yaml", []byte(in))
	var es Errors
	if !errors.As(err, &es) || len(es) != MaxErrors+1 {
		t.Fatalf("want %d errors, got %v", MaxErrors+1, err)
	}
	if last := es[len(es)-1].Msg; !strings.HasPrefix(last, "and ") || !strings.HasSuffix(last, " more errors") {
		t.Errorf("last error %q does not count the rest", last)
	}
}

func fill(size int, line func(i int) string) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		l := line(i)
		if b.Len()+len(l) > size {
			break
		}
		b.WriteString(l)
	}
	return b.String()
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
