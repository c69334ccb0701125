package run

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// defaultMethods caches DefaultMethod per interpreter path.
var defaultMethods sync.Map // path -> string

// DefaultMethod is the start method that python's multiprocessing uses when
// the program does not choose one (scenario.MethodDefault): asked of the
// interpreter once, not assumed from its version, since a build or a
// platform may differ (fork up to 3.13 on Linux, forkserver from 3.14).
func DefaultMethod(ctx context.Context, python string) (string, error) {
	if m, ok := defaultMethods.Load(python); ok {
		return m.(string), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", "import multiprocessing; print(multiprocessing.get_start_method())")
	out, err := cmd.Output()
	m := strings.TrimSpace(string(out))
	if err != nil || !slices.Contains(scenario.Methods, m) {
		return "", fmt.Errorf("%s: cannot tell its default start method (%q, %v)", python, m, err)
	}
	defaultMethods.Store(python, m)
	return m, nil
}
