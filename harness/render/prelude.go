package render

// The fixed Python that every rendered program shares, and the helpers that
// only some kinds need. Kept as text so the program reads top to bottom.

const preludeCore = `
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
`

// preludeArm: parks armed inside operations whose code is not ours to edit.
const preludeArm = `
# Parks armed inside operations that run code of ours from deep inside a
# library (a logging stream's write, an SQL function, a module body):
# resource -> (event name, Event). One-shot: the parking thread takes it.
_ARMED = {}


def _arm(resource, name, event):
    _ARMED[resource] = (name, event)


def _park_if_armed(resource):
    armed = _ARMED.pop(resource, None)
    if armed is not None:
        _park(*armed)
`

const preludeLogging = `
class _ParkingStream:
    """A logging handler's stream. emit() calls write() with the handler's
    lock held, so a park armed here parks inside emit(). Output is dropped."""

    def __init__(self, resource):
        self.resource = resource

    def write(self, text):
        _park_if_armed(self.resource)

    def flush(self):
        pass


def _logger(resource):
    logger = logging.getLogger("forkfuzz." + resource)
    logger.propagate = False
    logger.addHandler(logging.StreamHandler(_ParkingStream(resource)))
    return logger
`

const preludeSQLite = `
def _connect(resource):
    """A connection shared by threads. A query calling ff_park() runs Python
    code while SQLite holds the connection's mutex: a place to park."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.create_function("ff_park", 0, lambda: _park_if_armed(resource))
    return conn
`

const preludeExecutor = `
def _noop():
    pass


def _park_after(submitted, name, event):
    """A task that parks on an executor's worker, once the thread that
    submitted it has returned from submit(): the locks submit() takes are then
    free at the fork, whichever thread the scheduler ran first."""
    submitted.wait()
    _park(name, event)
`

const preludeModule = `
# The body of every ffmod_* module: it parks when the parent armed it, so that
# a thread is inside the import (importlib's lock for it held) at the fork.
_MODULE_BODY = '''"""Written by forkfuzz for one run; removed at exit."""
import sys

_main = sys.modules.get("__main__")
if hasattr(_main, "_park_if_armed"):
    _main._park_if_armed(__name__)
'''


def _module_dir():
    """A fresh directory for the ffmod_* modules, first on sys.path, removed
    at exit by the process that made it (a forked child inherits the atexit
    hook, not the directory)."""
    path = tempfile.mkdtemp(prefix="forkfuzz-")
    owner = os.getpid()

    def remove():
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    sys.path.insert(0, path)
    return path


_MODULE_DIR = _module_dir()


def _write_module(name):
    with open(os.path.join(_MODULE_DIR, name + ".py"), "w") as f:
        f.write(_MODULE_BODY)
    importlib.invalidate_caches()
`

const preludePipe = `
def _pipe_capacity(fd):
    # fcntl.F_GETPIPE_SZ exists from 3.10; on Linux it is 1032.
    return fcntl.fcntl(fd, getattr(fcntl, "F_GETPIPE_SZ", 1032))


def _pipe_payload(fd):
    """What a parking write sends: twice what the pipe holds, so that
    write(2) blocks with the buffer's lock held."""
    return (b"." * 63 + b"\n") * (2 * _pipe_capacity(fd) // 64)


def _wait_pipe_full(write_fd, event):
    """Wait for a park inside a blocked write: once the pipe has no room left
    (poll says its write end is not writable), the writer is blocked in
    write(2). An observation handshake, not a sleep. (FIONREAD == capacity
    is not enough: after a smaller write the kernel blocks a writer with
    fewer bytes in the pipe.)"""
    poller = select.poll()
    poller.register(write_fd, select.POLLOUT)
    while poller.poll(0):
        os.sched_yield()
    event.set()


def _drain(fd, size, copy_to=None):
    """Read exactly what a parked write sent, so that it completes."""
    while size > 0:
        data = os.read(fd, min(size, 65536))
        if not data:
            return
        size -= len(data)
        if copy_to is not None:
            _write_all(copy_to, data)


def _pipe_writer():
    """A private pipe and a buffered writer on its write end."""
    read_fd, write_fd = os.pipe()
    return read_fd, open(write_fd, "wb")
`

const preludeStdout = `
_STDOUT_PIPE = None  # read end of the pipe fd 1 points at
_STDOUT_SAVED = None  # the original fd 1


def _capture_stdout():
    """Point fd 1 at a pipe this program drains, so a write to sys.stdout can
    block on a full pipe. What is drained goes on to the original fd 1."""
    global _STDOUT_PIPE, _STDOUT_SAVED
    sys.stdout.flush()
    _STDOUT_SAVED = os.dup(1)
    _STDOUT_PIPE, write_fd = os.pipe()
    os.dup2(write_fd, 1)
    os.close(write_fd)


def _restore_stdout():
    sys.stdout.flush()
    os.dup2(_STDOUT_SAVED, 1)
    # Children may still hold the write end (a forkserver does): read what
    # is there without waiting for an end of file.
    os.set_blocking(_STDOUT_PIPE, False)
    while True:
        try:
            data = os.read(_STDOUT_PIPE, 65536)
        except BlockingIOError:
            return
        if not data:
            return
        _write_all(1, data)
`

const preludeWriteAll = `
def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]
`

const preludeResult = `
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
`

const preludeArgs = `
_USAGE = "usage: %s [--start-method fork|spawn|forkserver|default]" % os.path.basename(sys.argv[0])


def _parse_args():
    """The start method from --start-method (default: fork). Parsed by hand:
    argparse costs an import in every process, a spawn child included."""
    method, args = "fork", sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            print(_USAGE + "\n\n" + __doc__.splitlines()[0] + "\n\noptions:\n"
                  "  --start-method METHOD  how multiprocessing starts the child (default: fork;\n"
                  "                         default: what this Python does unasked)")
            sys.exit(0)
        name, eq, value = arg.partition("=")
        if name != "--start-method":
            _usage_error("unrecognized argument: %s" % arg)
        if not eq:
            if not args:
                _usage_error("--start-method needs a value")
            value = args.pop(0)
        if value not in ("fork", "spawn", "forkserver", "default"):
            _usage_error("--start-method %r: want fork, spawn, forkserver or default" % value)
        # default: what this interpreter does when a program does not choose.
        method = multiprocessing.get_start_method() if value == "default" else value
    return method


def _usage_error(message):
    sys.stderr.write("%s\nerror: %s\n" % (_USAGE, message))
    sys.exit(2)
`
