# forkfuzz executor server (harness/executor): forks a fresh case per request
# and runs a rendered program in it as `python PROGRAM ARGS...` would, without
# paying the interpreter's start-up.
#
# It imports what every rendered program imports at module level, and nothing
# a scenario may import (logging, queue, sqlite3, ...): those would change what
# the case holds at its own fork. It starts no thread, and forks only from its
# idle main loop, so a case starts with one thread and no lock held.
#
# Protocol on fd 3, a SOCK_SEQPACKET socket, one message per packet:
#   Go -> server: ID \0 CWD \0 NARGS \0 ARGV... \0 ENV...   with 2 fds (stdout, stderr)
#   server -> Go: "R PID" ready; "S ID PID" started; "F ID WHY" not started;
#                 "X ID STATUS" exited (raw wait status).
import argparse, faulthandler, multiprocessing, os, signal, sys, threading, traceback  # noqa: E401,F401
import array, select, socket  # noqa: E401  (already imported by multiprocessing.reduction)

_BEFORE = set(sys.modules)
try:
    # prctl: the server reaps its cases' orphans, and a case dies with the server.
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except Exception:
    _prctl = None
# Our own extra modules, dropped from every case's sys.modules.
_EXTRA = set(sys.modules) - _BEFORE

_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36
_MAX_REQUEST = 1 << 18


def _serve():
    """Answer requests until Go goes away; returns (in a forked case only)
    the program path and argv to run."""
    sock = socket.socket(fileno=3)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake select
    if _prctl is not None:
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    server = os.getpid()
    cases = {}  # pid -> request id
    sock.send(b"R %d" % server)
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap(sock, cases)
        if sock not in ready:
            continue
        fds = []
        try:
            data, fds = _receive(sock)
        except OSError:
            data = b""
        if not data:  # Go closed its end: kill and reap every case, then leave
            for fd in fds:
                os.close(fd)
            _shutdown(cases)
            return None
        rid, request = data.split(b"\0", 1)
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            sock.send(b"F %s want 2 fds, got %d" % (rid, len(fds)))
            continue
        try:
            pid = os.fork()
        except OSError as error:
            sock.send(b"F %s fork: %s" % (rid, str(error).encode()))
            pid = -1
        if pid == 0:
            return _become_case(request, fds, sock, [wake_r, wake_w], server)
        for fd in fds:
            os.close(fd)
        if pid < 0:
            continue
        try:
            os.setpgid(pid, pid)  # also here, so the group exists when Go hears of it
        except OSError:
            pass  # the child did it first, or has already exited
        cases[pid] = rid
        sock.send(b"S %s %d" % (rid, pid))


def _receive(sock):
    fds = array.array("i")
    data, ancdata, _, _ = sock.recvmsg(_MAX_REQUEST, socket.CMSG_SPACE(2 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


def _reap(sock, cases):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        rid = cases.pop(pid, None)
        if rid is not None:  # else an orphan of a case, adopted as subreaper
            sock.send(b"X %s %d" % (rid, status))


def _shutdown(cases):
    for pid in cases:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def _become_case(request, fds, sock, pipes, server):
    """Turn this forked child into what `python PROGRAM ARGS` starts as: its
    own process group, the case's stdout and stderr, cwd, argv and
    environment, default signal handling, and none of the server's fds."""
    try:
        os.setpgid(0, 0)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != server:  # the server died before prctl
                os._exit(128 + signal.SIGKILL)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        sock.close()
        for fd in set(fds + pipes) - {0, 1, 2}:
            os.close(fd)
        fields = request.split(b"\0")
        cwd, nargs = fields[0], int(fields[1])
        argv = [os.fsdecode(a) for a in fields[2 : 2 + nargs]]
        env = fields[2 + nargs :]
        os.chdir(cwd)
        os.environ.clear()
        for kv in env:
            key, _, value = os.fsdecode(kv).partition("=")
            if key:
                os.environ[key] = value
        for name in _EXTRA:
            sys.modules.pop(name, None)
        program = argv[0]
        sys.argv = argv
        sys.path[0] = os.path.dirname(os.path.realpath(program))
        return program
    except BaseException as error:
        os.write(2, ("forkfuzz executor: case setup: %r\n" % (error,)).encode())
        os._exit(126)


def _run(program):
    """Run program as __main__, in a module of its own (spawn-style pickling
    by reference finds its functions in sys.modules["__main__"]). An
    uncaught exception is printed without our frames and exits 1."""
    main = type(sys)("__main__")
    main.__file__ = program
    main.__cached__ = None
    main.__builtins__ = sys.modules["builtins"]
    main.__spec__ = None
    with open(program, "rb") as f:
        code = compile(f.read(), program, "exec", dont_inherit=True)
    sys.modules["__main__"] = main
    sys.modules["__mp_main__"] = main  # multiprocessing aliases it at import
    try:
        exec(code, main.__dict__)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as error:
        error.__traceback__ = error.__traceback__.tb_next
        sys.excepthook(type(error), error, error.__traceback__)
        sys.exit(1)


_PROGRAM = _serve()
if _PROGRAM is not None:
    _run(_PROGRAM)
