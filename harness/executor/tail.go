package executor

import (
	"os"
	"sync"
)

// tailSize bounds what is kept of the server's own output.
const tailSize = 4096

// tail keeps the last bytes the server wrote to its stdout and stderr: a
// traceback when it fails to start or dies.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func newTail(r *os.File) *tail {
	t := &tail{}
	go func() {
		defer r.Close()
		b := make([]byte, 1024)
		for {
			n, err := r.Read(b)
			t.mu.Lock()
			t.buf = append(t.buf, b[:n]...)
			if len(t.buf) > tailSize {
				t.buf = t.buf[len(t.buf)-tailSize:]
			}
			t.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return t
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
