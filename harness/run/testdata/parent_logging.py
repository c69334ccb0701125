# Another thread holds logging's module lock; os.fork's at-fork hook blocks on it.
import logging, os, threading
from fftrace import ROLE, ev, method

held, resume = threading.Event(), threading.Event()


def holder():
    with logging._lock:
        ev("parked", "held")
        held.set()
        resume.wait()


if __name__ == "__main__":
    t = threading.Thread(target=holder, daemon=True)
    t.start()
    held.wait()
    ev("step", "main:2", "fork", "os.fork")
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    resume.set()
    os.waitpid(pid, 0)
    ev("result", "ok")
