#!/usr/bin/env python3
"""forkfuzz scenario executor-one-worker.

A ThreadPoolExecutor(max_workers=1) has a task in flight when the parent
forks. In the child the executor still counts its worker thread, which does
not exist there, so a submitted task never runs and result() waits forever.

Rendered by forkfuzz.
Standalone: Python 3.8 to 3.13, standard library only.

    python3 PROGRAM.py [--start-method fork|spawn|forkserver]

Threads park at chosen points (they wait on an Event) and the parent forks
only once every one of them is parked, so the state at the fork is fixed.
Exit status: 0 when everything completed, 1 on an error, 3 when the child was
killed by a signal. A fork deadlock shows as a hang. With FORKFUZZ_TRACE=1
the program reports its progress on stderr, one "@forkfuzz" line per event.
"""

import concurrent.futures
import faulthandler
import multiprocessing
import os
import signal
import sys
import threading

# Every process prints every thread's Python stack on SIGUSR1: the runner asks
# for it once it has proved a process stuck. A spawn or forkserver child
# installs it again when it imports this file.
faulthandler.register(signal.SIGUSR1, all_threads=True)

_TRACE = os.environ.get("FORKFUZZ_TRACE") == "1"
# A spawn or forkserver child imports this file as __mp_main__.
_ROLE = "child" if __name__ == "__mp_main__" else "parent"


def _trace(*words):
    """Report progress to the runner with one raw write(2): no Python lock,
    which a fork could have copied while held, is involved."""
    if _TRACE:
        line = "@forkfuzz %d %s %s\n" % (os.getpid(), _ROLE, " ".join(words))
        os.write(2, line.encode())


def _step(who, index, op, target):
    _trace("step", "%s:%d" % (who, index), op, target)


def _say(message):
    os.write(2, ("forkfuzz: %s\n" % message).encode())


# Set by the parent right after the fork; every parked thread waits for it.
# Nothing else decides the order: no sleeps.
_RESUME = threading.Event()


def _park(name, event):
    """Park here: say so, let the parent know, and wait until it has forked."""
    _trace("parked", name)
    event.set()
    _RESUME.wait()


_THREADS = []
_FAILED = []


def _start(name, target):
    thread = threading.Thread(target=_run_thread, args=(name, target), name=name, daemon=True)
    _THREADS.append(thread)
    thread.start()


def _run_thread(name, target):
    try:
        target()
    except BaseException:
        _FAILED.append(name)
        raise  # threading prints the traceback


def _join_threads():
    for thread in _THREADS:
        thread.join()


def _adopt(shared):
    """Bind the multiprocessing locks the parent passed to this child."""
    globals().update(shared)


def _noop():
    pass


def _park_after(submitted, name, event):
    """A task that parks on an executor's worker, once the thread that
    submitted it has returned from submit(): the locks submit() takes are then
    free at the fork, whichever thread the scheduler ran first."""
    submitted.wait()
    _park(name, event)


def _exit_status(status):
    """os.waitpid's status as multiprocessing reports it: negative for a signal."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _result(exitcode):
    """The program's exit status from the child's: 0 when everything
    completed, 1 on an error, 3 when the child was killed by a signal."""
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "SIG%d" % -exitcode
        _say("the child was killed by %s" % name)
        _trace("result", "crash", name)
        return 3
    if exitcode != 0:
        _say("the child exited with status %d" % exitcode)
        _trace("result", "error", "exit-%d" % exitcode)
        return 1
    if _FAILED:
        _say("thread %s failed" % _FAILED[0])
        _trace("result", "error", "thread-" + _FAILED[0])
        return 1
    _trace("result", "ok")
    return 0


_USAGE = "usage: %s [--start-method fork|spawn|forkserver]" % os.path.basename(sys.argv[0])


def _parse_args():
    """The start method from --start-method (default: fork). Parsed by hand:
    argparse costs an import in every process, a spawn child included."""
    method, args = "fork", sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            print(_USAGE + "\n\n" + __doc__.splitlines()[0] + "\n\noptions:\n"
                  "  --start-method METHOD  how multiprocessing starts the child (default: fork)")
            sys.exit(0)
        name, eq, value = arg.partition("=")
        if name != "--start-method":
            _usage_error("unrecognized argument: %s" % arg)
        if not eq:
            if not args:
                _usage_error("--start-method needs a value")
            value = args.pop(0)
        if value not in ("fork", "spawn", "forkserver"):
            _usage_error("--start-method %r: want fork, spawn or forkserver" % value)
        method = value
    return method


def _usage_error(message):
    sys.stderr.write("%s\nerror: %s\n" % (_USAGE, message))
    sys.exit(2)


# Resources, made at module level: a spawn or forkserver child, which imports
# this file again, gets fresh ones, as a real program would.
executor_ex = concurrent.futures.ThreadPoolExecutor(max_workers=1)

# Events: a park sets its event once parked; wait and signal use them too.
event_running = threading.Event()


def thread_submitter():
    _step("thread/submitter", 0, "park", "running")
    submitted = threading.Event()
    future = executor_ex.submit(_park_after, submitted, "running", event_running)  # parks on the executor's worker
    submitted.set()
    future.result()


def child():
    """The child's steps, in the forked child (or the spawned one)."""
    _step("child", 0, "use", "ex")
    executor_ex.submit(_noop).result()


def child_process(shared):
    """The child process's entry point."""
    global _ROLE
    _ROLE = "child"
    _adopt(shared)
    child()
    _trace("done")


def os_fork_child(shared):
    """The child of os.fork(): it never returns into main()'s code."""
    try:
        child_process(shared)
    except SystemExit:
        raise  # exit: normal, through the interpreter's exit (flushes std streams)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        os._exit(1)
    os._exit(0)


def main():
    method = _parse_args()
    ctx = multiprocessing.get_context(method)
    _step("main", 0, "start", "submitter")
    _start("submitter", thread_submitter)
    _step("main", 1, "wait", "running")
    event_running.wait()
    _step("main", 2, "fork", "os.fork")
    shared = {}  # multiprocessing locks the child uses
    _trace("fork", "os.fork", method)
    if method == "fork":
        pid, process = os.fork(), None
        if pid == 0:
            os_fork_child(shared)
    else:
        # Under spawn and forkserver a user runs the child in a Process instead.
        pid, process = 0, ctx.Process(target=child_process, args=(shared,))
        process.start()
    # Forked: let every parked thread go on.
    _RESUME.set()
    _join_threads()
    if process is None:
        exitcode = _exit_status(os.waitpid(pid, 0)[1])
    else:
        process.join()
        exitcode = process.exitcode
    return _result(exitcode)


if __name__ == "__main__":
    try:
        status = main()
    except Exception as error:
        sys.excepthook(type(error), error, error.__traceback__)
        _trace("result", "error", type(error).__name__)
        status = 1
    sys.exit(status)
