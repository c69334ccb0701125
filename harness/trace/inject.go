package trace

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sitecustomize is the Python side: it must stay importable by 3.8 to 3.13.
//
//go:embed py/sitecustomize.py
var sitecustomize []byte

// writeInstrumentation writes the sitecustomize into dir.
func writeInstrumentation(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write instrumentation: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sitecustomize.py"), sitecustomize, 0o644); err != nil {
		return fmt.Errorf("write instrumentation: %w", err)
	}
	return nil
}

// withTrace returns env with FORKFUZZ_TRACE_DIR set and pyDir first on
// PYTHONPATH, ahead of any sitecustomize it shadows (ours runs that one too).
func withTrace(env []string, pyDir, traceDir string) []string {
	out := make([]string, 0, len(env)+2)
	path := pyDir
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "PYTHONPATH="):
			if old := strings.TrimPrefix(kv, "PYTHONPATH="); old != "" {
				path += string(os.PathListSeparator) + old
			}
		case strings.HasPrefix(kv, "FORKFUZZ_TRACE_DIR="):
		default:
			out = append(out, kv)
		}
	}
	return append(out, "PYTHONPATH="+path, "FORKFUZZ_TRACE_DIR="+traceDir)
}
