# A thread holds a Lock at the fork; the child takes it: deadlock under fork.
import multiprocessing, threading
from fftrace import ROLE, ev, method

L = threading.Lock()
held, resume = threading.Event(), threading.Event()


def holder():
    with L:
        ev("parked", "held")
        held.set()
        resume.wait()


def child():
    ROLE[0] = "child"
    ev("step", "child:0", "use", "L")
    with L:  # the acquire line
        pass
    ev("done")


if __name__ == "__main__":
    t = threading.Thread(target=holder, daemon=True)
    t.start()
    held.wait()
    ev("fork", "process", method())
    p = multiprocessing.get_context(method()).Process(target=child)
    p.start()
    resume.set()
    t.join()
    p.join()
    ev("result", "ok" if p.exitcode == 0 else "error child exit %s" % p.exitcode)
