# The child waits on a multiprocessing.Lock (shared futex) that the parent
# releases later: no deadlock, the negative control.
import multiprocessing, time
from fftrace import ROLE, ev, method


def child(lock):
    ROLE[0] = "child"
    ev("step", "child:0", "use", "M")
    with lock:
        pass
    ev("done")


if __name__ == "__main__":
    ctx = multiprocessing.get_context(method())
    lock = ctx.Lock()
    lock.acquire()
    p = ctx.Process(target=child, args=(lock,))
    p.start()
    time.sleep(0.3)  # long enough for many polls of a child blocked on the shared futex
    lock.release()
    p.join()
    ev("result", "ok" if p.exitcode == 0 else "error child exit %s" % p.exitcode)
