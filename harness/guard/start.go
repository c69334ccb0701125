package guard

import (
	"os/exec"
	"runtime"
	"sync"
)

// Pdeathsig fires when the OS thread that started the child exits, not when
// the Go process does. Go ends a thread only when a goroutine exits while
// locked to it, so every process is started from one goroutine that locks its
// thread and never exits: the signal then fires only when forkfuzz dies.
var (
	startOnce sync.Once
	starts    = make(chan startReq)
)

type startReq struct {
	cmd  *exec.Cmd
	done chan error
}

// Start starts cmd from that thread, so that its SysProcAttr.Pdeathsig
// means "when forkfuzz dies".
func Start(cmd *exec.Cmd) error {
	startOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as forkfuzz
			for r := range starts {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	starts <- startReq{cmd: cmd, done: done}
	return <-done
}
