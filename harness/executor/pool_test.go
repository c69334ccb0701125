package executor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// TestPoolConcurrent launches cases from many goroutines at once on one
// lazily started server, each with its own output, then kills the server
// and wants the next Launch to start another.
func TestPoolConcurrent(t *testing.T) {
	py := interpreters(t)[0].Path
	dir := t.TempDir()
	prog := filepath.Join(dir, "echo.py")
	os.WriteFile(prog, []byte("import sys\nprint(sys.argv[1])\nsys.exit(int(sys.argv[1]) % 5)\n"), 0o644)
	pool := NewPool(context.Background())
	defer pool.Close()
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pool.Launch(py, Request{Program: prog, Args: []string{fmt.Sprint(i)}, Dir: dir, Env: testEnv()})
			if err != nil {
				t.Error(err)
				return
			}
			var out bytes.Buffer
			out.ReadFrom(c.Stdout)
			c.Stdout.Close()
			c.Stderr.Close()
			ws, err := c.Wait()
			if err != nil || ws.ExitStatus() != i%5 || out.String() != fmt.Sprintln(i) {
				t.Errorf("case %d: status %d, %v, output %q", i, ws.ExitStatus(), err, out.String())
			}
		}()
	}
	wg.Wait()
	servers := pool.Servers()
	if len(servers) != 1 {
		t.Fatalf("%d servers, want 1", len(servers))
	}
	syscall.Kill(servers[0].Pid, syscall.SIGKILL)
	servers[0].Close() // waits until it is reaped
	c, err := pool.Launch(py, Request{Program: prog, Args: []string{"5"}, Dir: dir, Env: testEnv()})
	if err != nil {
		t.Fatalf("Launch after the server died: %v", err)
	}
	new(bytes.Buffer).ReadFrom(c.Stdout)
	c.Stdout.Close()
	c.Stderr.Close()
	if ws, err := c.Wait(); err != nil || ws.ExitStatus() != 0 {
		t.Errorf("case on the new server: %v, %v", ws, err)
	}
	if s := pool.Servers(); len(s) != 1 || s[0].Pid == servers[0].Pid {
		t.Errorf("servers after restart: %v", s)
	}
	env := append(testEnv(), "PYTHONUNBUFFERED=1")
	if _, err := servers[0].Launch(Request{Program: prog, Env: env}); err == nil {
		t.Errorf("Launch on a dead server: no error")
	}
	if _, err := pool.Servers()[0].Launch(Request{Program: prog, Env: env}); err != ErrStartupEnv {
		t.Errorf("Launch with PYTHONUNBUFFERED=1 on a server without: %v, want ErrStartupEnv", err)
	}
}
