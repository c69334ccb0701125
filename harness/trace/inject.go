package trace

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The Python side, which must stay importable by 3.8 to 3.13: a small
// sitecustomize that imports _forkfuzz_trace and then the sitecustomize it
// shadows.
//
//go:embed py/sitecustomize.py py/_forkfuzz_trace.py
var pyFiles embed.FS

// instrumentation returns a directory holding the Python side. It lives in
// the user's cache, named by a hash of its content, so that the bytecode
// Python caches next to it serves every later run (compiling it costs 10-20
// ms per process otherwise); a temporary directory under work is the fallback.
func instrumentation(work string) (string, error) {
	h := sha256.New()
	files := map[string][]byte{}
	err := fs.WalkDir(pyFiles, "py", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pyFiles.ReadFile(path)
		files[filepath.Base(path)] = b
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("instrumentation: %w", err)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		dir := filepath.Join(cache, "forkfuzz", "trace-"+hex.EncodeToString(h.Sum(nil))[:16])
		if writeFiles(dir, files) == nil {
			return dir, nil
		}
	}
	dir := filepath.Join(work, "py")
	if err := writeFiles(dir, files); err != nil {
		return "", fmt.Errorf("instrumentation: %w", err)
	}
	return dir, nil
}

// writeFiles writes each file unless it is there with the same content; each
// write goes through a temporary file and a rename, so that a concurrent run
// never imports half a file.
func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
			continue
		}
		tmp, err := os.CreateTemp(dir, name+".tmp*")
		if err != nil {
			return err
		}
		_, werr := tmp.Write(b)
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), path)
		}
		if werr != nil {
			os.Remove(tmp.Name())
			return werr
		}
	}
	return nil
}

// withTrace returns env with pyDir first on PYTHONPATH, ahead of any
// sitecustomize it shadows (ours runs that one too), and FORKFUZZ_TRACE_DIR
// set.
func withTrace(env []string, pyDir, traceDir string) []string {
	out := make([]string, 0, len(env)+3)
	path := pyDir
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "PYTHONPATH="):
			if old := strings.TrimPrefix(kv, "PYTHONPATH="); old != "" {
				path += string(os.PathListSeparator) + old
			}
		case strings.HasPrefix(kv, "FORKFUZZ_TRACE_"):
		default:
			out = append(out, kv)
		}
	}
	return append(out, "PYTHONPATH="+path, "FORKFUZZ_TRACE_DIR="+traceDir)
}
