# The child blocks writing to a full pipe nobody reads (not a futex): a hang.
import multiprocessing, os
from fftrace import ROLE, ev, method


def child(w):
    ROLE[0] = "child"
    ev("step", "child:0", "write", "pipe")
    while True:
        os.write(w, b"x" * 65536)


if __name__ == "__main__":
    r, w = os.pipe()
    p = multiprocessing.get_context(method()).Process(target=child, args=(w,))
    p.start()
    p.join()
    ev("result", "ok")
