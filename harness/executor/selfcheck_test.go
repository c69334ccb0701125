package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSelfCheck breaks the server's emulation of a fresh interpreter in
// ways a new CPython release could, and wants the server to notice at start
// on every interpreter, and the pool to say so once and refuse every case.
func TestSelfCheck(t *testing.T) {
	breaks := []struct {
		name, old, new, want string
	}{
		// multiprocessing.util's atexit callback never registered in the case.
		{"atexit", "            atexit.register(function, *args, **kwargs)\n", "            pass\n", "atexit callbacks"},
		// A module handed out along with another is not set on its package
		// (multiprocessing.util with popen_fork; 3.14's re lost re._compiler
		// this way).
		{"package attribute", "                setattr(sys.modules[package], child, sys.modules[dep])\n",
			"                pass\n", "other attributes"},
	}
	for _, in := range interpreters(t) {
		for _, b := range breaks {
			t.Run(in.Version+"/"+b.name, func(t *testing.T) {
				if !strings.Contains(serverSource, b.old) {
					t.Fatalf("server.py has no %q to break", b.old)
				}
				broken := strings.Replace(serverSource, b.old, b.new, 1)
				s, err := start(context.Background(), in.Path, testEnv(), broken)
				if err == nil {
					s.Close()
					t.Fatalf("a broken server started on %s", in.Version)
				}
				var nf *NotFreshError
				if !errors.As(err, &nf) || !strings.Contains(nf.Why, b.want) {
					t.Fatalf("error %v, want a NotFreshError about %q", err, b.want)
				}
			})
		}
	}
}

// TestPoolNotFresh: a pool whose server is not fresh-equivalent says so
// once, however many cases ask, and every Launch gets the NotFreshError.
func TestPoolNotFresh(t *testing.T) {
	py := interpreters(t)[0].Path
	prog := filepath.Join(t.TempDir(), "p.py")
	os.WriteFile(prog, []byte("pass\n"), 0o644)
	saved := serverSource
	serverSource = strings.Replace(serverSource, "            atexit.register(function, *args, **kwargs)\n", "            pass\n", 1)
	defer func() { serverSource = saved }()
	pool := NewPool(context.Background())
	defer pool.Close()
	var mu sync.Mutex
	var said []string
	pool.Say = func(s string) { mu.Lock(); said = append(said, s); mu.Unlock() }
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := pool.Launch(py, Request{Program: prog, Env: testEnv()})
			var nf *NotFreshError
			if !errors.As(err, &nf) {
				t.Errorf("Launch: %v, want a NotFreshError", err)
			}
		}()
	}
	wg.Wait()
	if len(said) != 1 || !strings.Contains(said[0], "fresh") {
		t.Errorf("said %q, want one line", said)
	}
}
