# forkfuzz executor server (harness/executor): forks a fresh case per request
# and runs a rendered program in it as `python PROGRAM ARGS...` would, without
# paying the interpreter's start-up.
#
# It imports what every rendered program imports at module level, and nothing
# a scenario may import (logging, queue, sqlite3, ...): those would change what
# the case holds at its own fork. Some more it imports but hides (_PRELOAD). It starts no thread, and forks only from its
# idle main loop, so a case starts with one thread and no lock held.
#
# Protocol on fd 3, a SOCK_SEQPACKET socket, one message per packet:
#   Go -> server: ID \0 CWD \0 NARGS \0 ARGV... \0 ENV...   with 2 fds (stdout, stderr)
#   server -> Go: "R PID" ready; "S ID PID" started; "F ID WHY" not started;
#                 "X ID STATUS" exited (raw wait status).
import sys

# `python -` (our source on stdin) put "" (our cwd) first on sys.path: never
# import from there. A case gets its program's folder there instead, as
# `python PROGRAM` does.
del sys.path[0]

import faulthandler, multiprocessing, os, signal, threading  # noqa: E401,E402,F401

# What every fork case imports later on (argparse where it parses its
# arguments; what `multiprocessing` imports when a fork-method Process
# starts: popen_fork, util, subprocess, ...; traceback, which logging
# imports) costs a case about a quarter of its CPU. It is imported here ahead
# of time, then hidden from the case, and _Preloaded hands each module out
# when the case imports it, with the modules a fresh import of it would load,
# in the same order: a case's sys.modules is always what a fresh
# interpreter's would be. Not the Pool machinery: it pulls in random, whose
# import registers an at-fork hook.
_PRELOAD = ("argparse", "multiprocessing.popen_fork", "traceback", "array", "select", "socket", "time")


def _fingerprint(before):
    """What importing a module changed, as a fresh interpreter would see it,
    in four lines: the modules it loaded in their sys.modules order; for every
    module then loaded, a hash of its attribute names (a package gains one per
    submodule); the number of atexit callbacks; and the attributes (MODULE:NAME)
    it added to modules loaded before it, other than submodules."""
    loaded = [m for m in sys.modules if m not in before]
    attrs = ["%s=%x" % (m, hash(tuple(sorted(vars(mod))))) for m, mod in sorted(sys.modules.items())
             if issubclass(type(mod), type(sys)) and m not in _OWN_MAIN]
    atexit = sys.modules.get("atexit")
    added = ["%s:%s" % (m, a) for m, names in before.items() if m in sys.modules
             for a in sorted(set(vars(sys.modules[m])) - names) if "%s.%s" % (m, a) not in sys.modules]
    return "\n".join([" ".join(loaded), " ".join(attrs), "%d" % (atexit._ncallbacks() if atexit else 0),
                      " ".join(added)])


def _attributes():
    """Every module's attribute names, for _fingerprint's before (none for
    what is not a module: 3.11's typing puts classes in sys.modules)."""
    return {m: set(vars(mod)) if issubclass(type(mod), type(sys)) else set() for m, mod in list(sys.modules.items())}


# The server's own __main__: a case gets a new one (see _run).
_OWN_MAIN = ("__main__", "__mp_main__")


def _in_children(names, setup):
    """For each name, _fingerprint of importing it in a forked child of this
    process after setup(): all children at once, each of which says."""
    children = {}
    for name in names:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                setup()
                before = _attributes()
                __import__(name)
                os.write(w, _fingerprint(before).encode())
            finally:
                os._exit(0)
        os.close(w)
        children[name] = (pid, r)
    prints = {}
    for name, (pid, r) in children.items():
        chunks = [os.read(r, 1 << 16)]
        while chunks[-1]:
            chunks.append(os.read(r, 1 << 16))
        os.close(r)
        os.waitpid(pid, 0)
        prints[name] = b"".join(chunks).decode()
    return prints


def _loads(prints):
    """From fingerprints, the modules each import loads, in the order they end
    up in sys.modules (a package after its submodules: the import system
    moves a module to the end once its body has run)."""
    return {name: fp.split("\n")[0].split() for name, fp in prints.items()}


# For each module of the preload, what a fresh import of it alone loads
# (a package after its submodules), learnt before the server imports any of them.
# _FRESH keeps everything else a fresh import of each changes, to check the
# emulation against before serving (_check_fresh).
_FRESH = _in_children(sorted({m for ms in _loads(_in_children(_PRELOAD, lambda: None)).values() for m in ms}),
                      lambda: None)
_LOADS = _loads(_FRESH)
_SHOWN = _attributes()
import atexit  # noqa: E402

# Their one side effect outside their own modules: multiprocessing.util
# registers an atexit callback. It is held back here, and registered in the
# case when the module is handed out, where a fresh import would register it.
_AT_EXIT = {}  # module name -> [(function, args, kwargs)]


def _hold_back(function, *args, **kwargs):
    name = sys._getframe(1).f_globals.get("__name__")
    _AT_EXIT.setdefault(name, []).append((function, args, kwargs))
    return function


_register, atexit.register = atexit.register, _hold_back
try:
    for _name in _PRELOAD:
        __import__(_name)
finally:
    atexit.register = _register
import array, select, socket, time  # noqa: E401,E402  (ours, preloaded: 3.14's multiprocessing has no select)
_PRELOADED = {name: sys.modules[name] for name in sys.modules if name not in _SHOWN}
# What the preload added to modules a case starts with (3.14's importlib sets
# _frozen_importlib.__file__): taken away from each case, and put back when
# the case imports a module whose fresh import adds it.


def _added():
    added = {}
    for m, names in _SHOWN.items():
        module = sys.modules.get(m)
        if m in _OWN_MAIN or not issubclass(type(module), type(sys)):
            continue
        for a in set(vars(module)) - names:
            if "%s.%s" % (m, a) not in _PRELOADED:  # a submodule is _hide_preloaded's
                added[(m, a)] = vars(module)[a]
    return added


_ADDED = _added()
# Per module, what of _ADDED a fresh import of it adds: put back on hand-out.
_ADDS = {name: [key for key in (tuple(a.split(":", 1)) for a in fp.split("\n")[3].split()) if key in _ADDED]
         for name, fp in _FRESH.items()}
if set(_PRELOADED) != set(_LOADS) or not set(_AT_EXIT) <= set(_PRELOADED):
    raise SystemExit("forkfuzz executor: importing %s here loaded %s and registered atexit callbacks from %s; "
                     "in fresh children it loaded %s" % (", ".join(_PRELOAD), sorted(_PRELOADED), sorted(_AT_EXIT), sorted(_LOADS)))

_BEFORE = set(sys.modules)
import gc  # noqa: E402



def _ctypes_leaves_no_fd():
    """Whether importing ctypes opens no file descriptor: 3.14+'s libffi keeps
    its own library open (static trampolines), and every case would inherit
    that fd, which a fresh interpreter does not have. Learnt in a child."""
    pid = os.fork()
    if pid == 0:
        before = set(os.listdir("/proc/self/fd"))
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl
        finally:
            os._exit(0 if set(os.listdir("/proc/self/fd")) == before else 1)
    return os.waitpid(pid, 0)[1] == 0


_prctl = None
if _ctypes_leaves_no_fd():
    # prctl: the server reaps its cases' orphans, and a case dies with the
    # server. Without it (see above) Go, the subreaper of every run, kills
    # a case's group when its server dies.
    try:
        import ctypes

        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except Exception:
        pass
# Our own extra modules, dropped from every case's sys.modules.
_EXTRA = set(sys.modules) - _BEFORE

_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36
_MAX_REQUEST = 1 << 18
_CASES = {}  # pid -> request id, of every case not yet reaped


def _on_term(signum, frame):
    """Go is gone (our parent-death signal) or asks us to stop: take every
    case's process group with us."""
    _shutdown()
    os._exit(0)


def _serve():
    """Answer requests until Go goes away (then return None). In a forked
    case it returns the program to run."""
    sock = socket.socket(fileno=3)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake select
    signal.signal(signal.SIGTERM, _on_term)
    if _prctl is not None:
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    server = os.getpid()
    # Every object of ours, frozen out of the cyclic GC: a case's final
    # collections then skip them, and its exit touches (and copies on write)
    # half as much memory. Not something a scenario can observe.
    gc.collect()
    gc.freeze()
    # "U PID WHY": the emulation of a fresh interpreter does not hold here,
    # and Go runs this interpreter's cases fresh; this server serves nothing.
    differs = _check_fresh()
    if differs:
        sock.send(b"U %d %s" % (server, differs.encode()[:4000]))
        return None
    sock.send(b"R %d" % server)
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap(sock)
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
            _shutdown()
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
        _CASES[pid] = rid
        sock.send(b"S %s %d" % (rid, pid))


def _receive(sock):
    fds = array.array("i")
    data, ancdata, _, _ = sock.recvmsg(_MAX_REQUEST, socket.CMSG_SPACE(2 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


def _reap(sock):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        rid = _CASES.pop(pid, None)
        if rid is not None:  # else an orphan of a case, adopted as subreaper
            sock.send(b"X %s %d" % (rid, status))


def _shutdown():
    """Kill every case's group and reap it, and every orphan of it (we are
    their subreaper); give up after 2 s (a process that left its group)."""
    for pid in _CASES:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.001)
        except ChildProcessError:
            return


def _become_case(request, fds, sock, pipes, server):
    """Turn this forked child into what `python PROGRAM ARGS` starts as: its
    own process group, the case's stdout and stderr, cwd, argv and
    environment, default signal handling, and none of the server's fds."""
    try:
        os.setpgid(0, 0)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != server:  # the server died before prctl
                os._exit(128 + signal.SIGKILL)
        null = os.open(os.devnull, os.O_RDONLY)  # not our stdin, the pipe our source came through
        os.dup2(null, 0)
        os.close(null)
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
        _hide_preloaded()
        program = argv[0]
        sys.argv = argv
        if hasattr(sys, "orig_argv"):  # 3.10+: ours says -
            sys.orig_argv = sys.orig_argv[:1] + argv
        sys.path.insert(0, os.path.dirname(os.path.realpath(program)))
        return program
    except BaseException as error:
        os.write(2, ("forkfuzz executor: case setup: %r\n" % (error,)).encode())
        os._exit(126)


def _hide_preloaded():
    """Make the case's modules those of a fresh interpreter: every preloaded
    module leaves sys.modules and its package's attributes (whatever the
    order they were loaded in), and _Preloaded hands it out on import."""
    for name in _PRELOADED:
        del sys.modules[name]
        package, _, child = name.rpartition(".")
        parent = _PRELOADED.get(package) or sys.modules.get(package)
        if parent is not None and vars(parent).get(child) is _PRELOADED[name]:
            delattr(parent, child)
    for module, attr in _ADDED:
        vars(sys.modules[module]).pop(attr, None)
    sys.meta_path.insert(0, _Preloaded())


def _check_fresh():
    """Import each preloaded module in a child set up as a case is, and
    compare what that changed with what a fresh import changed (_FRESH). A
    difference means this interpreter's import system does something the
    emulation does not: its cases must then run in fresh interpreters.
    Returns the first difference, or ""."""
    def as_case():
        for name in _EXTRA:
            sys.modules.pop(name, None)
        _hide_preloaded()

    emulated = _in_children(_LOADS, as_case)
    for name in sorted(_LOADS):
        want, got = _FRESH[name].split("\n"), emulated[name].split("\n")
        if want[0] != got[0]:
            return "import %s loads %s, fresh: %s" % (name, got[0] or "nothing", want[0] or "nothing")
        if want[1] != got[1]:
            differ = sorted(set(want[1].split()) ^ set(got[1].split()))
            return "import %s leaves other attributes on %s than a fresh import" % (
                name, ", ".join(sorted({d.split("=")[0] for d in differ})))
        if want[2] != got[2]:
            return "import %s registers %s atexit callbacks, fresh: %s" % (name, got[2], want[2])
        if want[3] != got[3]:
            return "import %s adds %s to modules loaded before it, fresh: %s" % (name, got[3] or "nothing", want[3] or "nothing")
    return ""


class _Preloaded:
    """A meta path finder and loader for the modules the server imported
    ahead of time. Importing one goes through the import system's usual steps
    (module lock, sys.modules, the package attribute) and gives the server's
    module object, already executed; the modules its body loaded in a fresh
    import come with it, in their order, unless the case has them already.
    Only __spec__ would tell, and it is put back. It leaves sys.meta_path
    once it has handed out everything."""

    def __init__(self):
        self._left = dict(_PRELOADED)
        self._specs = {name: module.__spec__ for name, module in _PRELOADED.items()}
        self._getattr = {}

    def find_spec(self, name, path=None, target=None):
        if name not in self._left:
            return None
        return sys.modules["_frozen_importlib"].ModuleSpec(name, self)

    def create_module(self, spec):
        # The import system looks up attributes on what we return; an
        # executed module's __getattr__ (3.14's importlib.machinery imports
        # warnings in it) must not answer, as a new module has none yet.
        module = self._left[spec.name]
        self._getattr[spec.name] = vars(module).pop("__getattr__", None)
        return module

    def exec_module(self, module):
        # The spec's name, not the module's: 3.15's math.integer is also
        # _math_integer in sys.modules.
        name = module.__spec__.name
        if self._getattr.get(name) is not None:
            module.__getattr__ = self._getattr[name]
        # What its body imported, loaded as it would have been: all into
        # sys.modules first, then each onto its package, which may come
        # after its submodules in that order.
        deps = [dep for dep in _LOADS[name] if dep != name and dep in self._left and dep not in sys.modules]
        for dep in deps:
            sys.modules[dep] = self._handed(dep)
        for dep in deps:
            package, _, child = dep.rpartition(".")
            if package in sys.modules:
                setattr(sys.modules[package], child, sys.modules[dep])
        self._handed(name)
        for key in _ADDS[name]:
            if key[0] in sys.modules:
                setattr(sys.modules[key[0]], key[1], _ADDED[key])
        if not self._left and self in sys.meta_path:
            sys.meta_path.remove(self)

    def _handed(self, name):
        module = self._left.pop(name)
        module.__spec__ = self._specs[name]  # module_from_spec set ours on the one imported
        for function, args, kwargs in _AT_EXIT.get(name, ()):
            atexit.register(function, *args, **kwargs)
        return module


def _run(program):
    """Run program as __main__, in a module of its own (spawn-style pickling
    by reference finds its functions in sys.modules["__main__"]). An
    uncaught exception is printed without our frames and exits 1."""
    ours = sys.modules["__main__"]  # made by the interpreter's start-up, like a fresh one's
    main = type(sys)("__main__")
    if "__annotations__" in vars(ours):  # 3.8-3.13 give __main__ an empty one (3.14: made on access)
        main.__annotations__ = {}
    main.__builtins__ = sys.modules["builtins"]
    main.__file__ = program
    if sys.version_info < (3, 15):  # 3.15 no longer sets it
        main.__cached__ = None
    main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", program)
    with open(program, "rb") as f:
        code = compile(f.read(), program, "exec", dont_inherit=True)
    sys.modules["__main__"] = main
    sys.modules["__mp_main__"] = main  # multiprocessing aliases it at import
    try:
        exec(code, main.__dict__)
    except SystemExit as exit:
        _finish(_exit_status(exit.code))
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        error.__traceback__ = error.__traceback__.tb_next
        sys.excepthook(type(error), error, error.__traceback__)
        _finish(1)
    _finish(0)


def _exit_status(code):
    """The exit status SystemExit(code) gives a fresh interpreter."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _finish(status):
    """End the case as Py_Finalize begins, then leave without the rest: wait
    for non-daemon threads, run the atexit callbacks (multiprocessing joins
    its children there), flush the std streams, os._exit. The module teardown
    skipped touches every object the server imported, copying each page on
    write: about a third of a case's cost, and nothing a scenario observes."""
    threading._shutdown()
    atexit = sys.modules.get("atexit")  # not imported: nothing was registered
    if atexit is not None:
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            status = status or 120  # what Python does when the final flush fails
    os._exit(status)


_PROGRAM = _serve()
if _PROGRAM is not None:
    _run(_PROGRAM)
