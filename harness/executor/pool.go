package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Pool keeps one server per interpreter and start-up environment, started on
// first use. It is safe for concurrent use: one server forks cases for
// every worker, each case in flight at once (the server answers as they
// start and as they exit). The caller closes it; cancelling its context
// closes every server too.
type Pool struct {
	ctx context.Context

	// Say, when set, is told once per interpreter that its cases run in
	// fresh interpreters, and why (see NotFreshError).
	Say func(string)

	mu      sync.Mutex
	servers map[string]*entry
	closed  bool
}

// entry starts its server once, outside the pool's lock.
type entry struct {
	once sync.Once
	s    *Server
	err  error
}

// NewPool returns an empty pool whose servers live until Close or until
// ctx is cancelled.
func NewPool(ctx context.Context) *Pool {
	return &Pool{ctx: ctx, servers: map[string]*entry{}}
}

// Launch runs req on the server for python, starting it (with req.Env as its
// start-up environment) when there is none yet or the last one died.
func (p *Pool) Launch(python string, req Request) (*Case, error) {
	s, err := p.server(python, req.Env)
	if err != nil {
		return nil, err
	}
	return s.Launch(req)
}

func (p *Pool) server(python string, env []string) (*Server, error) {
	key := python + "\x00" + startupKey(env)
	for retry := false; ; retry = true {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, fmt.Errorf("executor: pool closed")
		}
		e := p.servers[key]
		if e == nil {
			e = &entry{}
			p.servers[key] = e
		}
		p.mu.Unlock()
		e.once.Do(func() {
			s, err := Start(p.ctx, python, env)
			var notFresh *NotFreshError
			if errors.As(err, &notFresh) && p.Say != nil {
				p.Say(notFresh.Error() + ": running its fork-method cases fresh")
			}
			p.mu.Lock() // Servers reads e.s under the lock
			e.s, e.err = s, err
			p.mu.Unlock()
		})
		err := e.err
		var notFresh *NotFreshError
		if errors.As(err, &notFresh) {
			return nil, err // for good: the entry stays, and so Say is told once
		}
		if err == nil {
			if err = e.s.Err(); err == nil {
				return e.s, nil
			}
		}
		p.mu.Lock()
		if p.servers[key] == e { // failed or died: the next try starts another
			delete(p.servers, key)
		}
		p.mu.Unlock()
		if e.s != nil {
			e.s.Close() // releases its socket
		}
		if retry {
			return nil, err
		}
	}
}

// Close closes every server; later Launches fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := p.servers
	p.servers = map[string]*entry{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.once.Do(func() { e.err = fmt.Errorf("executor: pool closed") })
			if e.s != nil {
				e.s.Close()
			}
		}()
	}
	wg.Wait()
	return nil
}

// Servers lists the running servers (for measurements).
func (p *Pool) Servers() []*Server {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*Server
	for _, e := range p.servers {
		if e.s != nil && e.s.Err() == nil {
			out = append(out, e.s)
		}
	}
	return out
}
