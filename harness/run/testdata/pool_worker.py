# A thread holds L; Pool(2).map(f) with f taking L: the workers deadlock.
import multiprocessing, threading
from fftrace import ROLE, ev, method

L = threading.Lock()
held, resume = threading.Event(), threading.Event()


def holder():
    with L:
        ev("parked", "held")
        held.set()
        resume.wait()


def task(i):
    ROLE[0] = "worker"
    ev("step", "child:0", "use", "L")
    with L:  # the acquire line
        pass
    ev("done")
    return i


if __name__ == "__main__":
    t = threading.Thread(target=holder, daemon=True)
    t.start()
    held.wait()
    ev("fork", "pool", method())
    with multiprocessing.get_context(method()).Pool(2) as pool:
        resume.set()
        pool.map(task, range(4))
    ev("result", "ok")
