# Hand-written stand-in for the rendered program of mplock.yaml: the negative
# control. A multiprocessing.Lock held at the fork lives in shared memory; the
# holder releases it after the fork and the child, waiting on it, wakes up.
import argparse
import faulthandler
import multiprocessing
import os
import signal
import sys
import threading

faulthandler.register(signal.SIGUSR1, all_threads=True)
TRACE = os.environ.get("FORKFUZZ_TRACE") == "1"
ROLE = "parent"


def trace(*words):
    if TRACE:
        os.write(2, ("@forkfuzz %d %s %s\n" % (os.getpid(), ROLE, " ".join(words))).encode())


held = threading.Event()
resume = threading.Event()


def holder(M):
    trace("step", "thread/holder:0", "take", "M")
    M.acquire()
    trace("step", "thread/holder:1", "park", "held")
    trace("parked", "held")
    held.set()
    resume.wait()
    trace("step", "thread/holder:2", "release", "M")
    M.release()


def child(M):
    global ROLE
    ROLE = "child"
    trace("step", "child:0", "use", "M")
    with M:
        pass
    trace("done")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--start-method", default="fork", choices=["fork", "spawn", "forkserver"])
    method = p.parse_args().start_method
    ctx = multiprocessing.get_context(method)
    M = ctx.Lock()
    t = threading.Thread(target=holder, args=(M,), daemon=True)
    trace("step", "main:0", "start", "holder")
    t.start()
    trace("step", "main:1", "wait", "held")
    held.wait()
    trace("step", "main:2", "fork", "")
    trace("fork", "process", method)
    proc = ctx.Process(target=child, args=(M,))
    proc.start()
    resume.set()
    t.join()
    proc.join()
    if proc.exitcode != 0:
        trace("result", "error", "child exit %s" % proc.exitcode)
        sys.exit(1)
    trace("result", "ok")


if __name__ == "__main__":
    main()
