# child_lock.py, but the parent keeps running for a while after the fork and
# only then writes to stderr, as CPython 3.12+ does with its fork warning:
# the child is proved stuck long before. argv[-1]: how long the parent runs
# (busy, in ms), or "forever".
import multiprocessing, os, sys, threading, time
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
    with L:
        pass


def busy(ms):
    """Run, not sleep: a sleeping parent would look settled."""
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        pass


if __name__ == "__main__":
    t = threading.Thread(target=holder, daemon=True)
    t.start()
    held.wait()
    ev("fork", "process", method())
    p = multiprocessing.get_context(method()).Process(target=child)
    p.start()
    if sys.argv[-1] == "forever":
        while True:
            busy(1000)
    busy(int(sys.argv[-1]))
    os.write(2, b"late: the parent after the fork\n")
    resume.set()
    t.join()
    p.join()
