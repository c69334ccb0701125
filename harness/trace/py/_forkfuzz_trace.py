# forkfuzz trace instrumentation, loaded by the sitecustomize next to it.
#
# It runs any Python program unchanged and writes, per process, one JSON line per
# event to FORKFUZZ_TRACE_DIR/trace.PID.jsonl with raw os.write calls (no Python
# lock is ever taken on that path, so it cannot deadlock in a forked child):
#   start    the process started (version, argv, stdlib dir)
#   fork     before a fork: every thread's stack, and every resource held by a
#            thread other than the forking one (its owner, where it was taken)
#   forked   the parent returned from the fork
#   child    in the child: the resources whose holder does not exist here
#   attempt  the child is about to take such a resource (written BEFORE blocking)
#   acquired / failed / released / reinit   what became of that attempt
#   warning  the 3.12+ "multi-threaded, use of fork()" DeprecationWarning was shown
#   error    the instrumentation itself failed (the program goes on)
# The signal in "sig" of the start (or child) record, a real-time signal that
# was free in the process, dumps every thread's stack to
# FORKFUZZ_TRACE_DIR/stack.PID.txt.
# chain() runs the sitecustomize that ours shadows, if any.
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_DIR = os.environ.get("FORKFUZZ_TRACE_DIR")


def chain():
    """Run the sitecustomize that ours shadows, as site.py would have."""
    try:
        from importlib.machinery import PathFinder

        path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
        spec = PathFinder.find_spec("sitecustomize", path)
        if spec is None or spec.loader is None:
            return
        from importlib.util import module_from_spec

        spec.loader.exec_module(module_from_spec(spec))
    except Exception as e:  # site.py would say the same and go on
        sys.stderr.write("Error in chained sitecustomize: %r\n" % (e,))


if _DIR:
    import _io
    import _thread
    import faulthandler
    import threading
    import warnings
    import _weakref
    from _weakrefset import WeakSet  # what weakref.WeakSet is, without importing weakref

    _ident = _thread.get_ident
    _getframe = sys._getframe
    _raw_lock = _thread.allocate_lock
    _CRLock = threading._CRLock or threading._PyRLock
    _ORIG_REGISTER = os.register_at_fork
    _STD = os.path.dirname(os.__file__) + os.sep
    _SELF = _getframe(0).f_code.co_filename
    _THREADING = threading.Condition.__enter__.__code__.co_filename
    _QUEUE = os.path.join(_STD, "queue.py")
    _LOGGING = os.path.join(_STD, "logging", "__init__.py")
    _CF = os.path.join(_STD, "concurrent", "futures") + os.sep
    # Frames skipped when naming where a lock was taken: the user's line that
    # led into these modules is the one a person wants to read.
    _SKIPF = {_SELF, _THREADING, _QUEUE, _LOGGING, os.path.join(_STD, "logging", "config.py"),
              os.path.join(_STD, "logging", "handlers.py"), _CF + "_base.py", _CF + "thread.py"}

    _fd = -1
    _fd_id = None
    _stack_fd = -1
    _seq = 0  # forks started by this process (a child inherits its fork's number)
    _in_fork = False
    _pending = None  # the last fork snapshot, inherited by the child
    _locks = WeakSet()
    _conns = WeakSet()
    _sems = WeakSet()
    _SIG = 0  # the stack-dump signal, chosen by _pick_signal

    def _pick_signal():
        """A real-time signal nobody in this process handles (the highest
        free one): never one the program uses itself, as servers do SIGUSR1.
        _signal is built in, and cheap to import (signal is not, on 3.8)."""
        import _signal
        for sig in range(_signal.SIGRTMAX, _signal.SIGRTMIN - 1, -1):
            try:
                if _signal.getsignal(sig) == _signal.SIG_DFL:
                    return sig
            except (OSError, ValueError):
                continue
        return 0

    # ---- output -------------------------------------------------------------

    _ESC = {i: "\\u%04x" % i for i in range(32)}
    _ESC[ord('"')] = '\\"'
    _ESC[ord("\\")] = "\\\\"

    def _enc(o):
        if isinstance(o, str):
            return '"' + o.translate(_ESC) + '"'
        if o is None or o is True or o is False:
            return {None: "null", True: "true", False: "false"}[o]
        if isinstance(o, int):
            return str(int(o))
        if isinstance(o, float):
            return repr(o)
        if isinstance(o, dict):
            return "{" + ",".join(_enc(str(k)) + ":" + _enc(v) for k, v in o.items()) + "}"
        if isinstance(o, (list, tuple)):
            return "[" + ",".join(_enc(v) for v in o) + "]"
        return _enc(repr(o))

    def _emit(ev, **rec):
        rec["ev"] = ev
        rec["pid"] = os.getpid()
        try:
            st = os.fstat(_fd)  # a program may have closed it, and the number be reused
            if (st.st_dev, st.st_ino) != _fd_id:
                raise OSError("trace file replaced")
            os.write(_fd, (_enc(rec) + "\n").encode("utf-8", "backslashreplace"))
        except Exception:
            pass

    def _error(where, e):
        _emit("error", where=where, error=repr(e))

    def _open():
        """Open this process's trace and stack files (again after a fork)."""
        global _fd, _fd_id, _stack_fd
        old = (_fd, _stack_fd)  # the parent's files, closed once replaced
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        pid = os.getpid()
        _fd = os.open(os.path.join(_DIR, "trace.%d.jsonl" % pid), flags, 0o644)
        st = os.fstat(_fd)
        _fd_id = (st.st_dev, st.st_ino)
        _stack_fd = os.open(os.path.join(_DIR, "stack.%d.txt" % pid), flags, 0o644)
        # faulthandler keeps the fd number, not a reference: keep it open.
        if _SIG:
            faulthandler.register(_SIG, file=_stack_fd, all_threads=True)
        for fd in old:
            if fd >= 0:
                os.close(fd)

    # ---- frames -------------------------------------------------------------

    def _user(fn):
        return not (fn.startswith("<") or fn == _SELF or
                    (fn.startswith(_STD) and "-packages" not in fn))

    def _fmt(f):
        return "%s:%d" % (f.f_code.co_filename, f.f_lineno)

    def _at(f):
        """Where frame f stands, as the innermost frame of user code."""
        g = f
        while g is not None:
            if _user(g.f_code.co_filename):
                return _fmt(g)
            g = g.f_back
        return _fmt(f) if f is not None else ""

    def _stack(f, limit=40):
        out = []
        while f is not None and len(out) < limit:
            out.append("%s in %s" % (_fmt(f), f.f_code.co_name))
            f = f.f_back
        return out

    def _line(code, lasti):
        """The line of byte offset lasti in code (recorded cheaply at acquire)."""
        if hasattr(code, "co_lines"):
            for start, end, line in code.co_lines():
                if start <= lasti < end and line is not None:
                    return line
            return code.co_firstlineno
        line, addr, tab = code.co_firstlineno, 0, code.co_lnotab
        for i in range(0, len(tab), 2):
            addr += tab[i]
            if addr > lasti:
                break
            d = tab[i + 1]
            line += d - 256 if d >= 128 else d
        return line

    def _taken(lk):
        c = lk.code
        return "" if c is None else "%s:%d" % (c.co_filename, _line(c, lk.lasti))

    # ---- tracking locks -----------------------------------------------------
    # Every acquire records the owner and the caller's code and offset: two
    # attribute reads, no line computation (that happens only at a fork).

    _KINDS = {"Condition": "condition", "Semaphore": "semaphore", "BoundedSemaphore": "semaphore",
              "Event": "condition", "Barrier": "condition", "Thread": "condition"}

    _BASE_NAMES = {"lock": "threading.Lock", "rlock": "threading.RLock", "semaphore": "threading.Semaphore"}

    def _made(base):
        """(kind, description) of a lock being created, from who creates it."""
        try:
            f = _getframe(2)  # _made <- __init__ <- the creator
        except ValueError:
            f = None
        kind, what, site = base, _BASE_NAMES[base], ""
        while f is not None:
            fn = f.f_code.co_filename
            if fn == _THREADING and f.f_code.co_name == "__init__":
                cls = type(f.f_locals.get("self")).__name__
                cls = cls[2:] if cls.startswith("_T") else cls  # our subclasses
                if cls in _KINDS:
                    kind, what = _KINDS[cls], "threading." + cls
            elif fn == _QUEUE and kind in (base, "condition"):
                kind, what = "queue", type(f.f_locals.get("self")).__name__ + ".mutex"
            elif fn == _LOGGING and kind == base:
                if f.f_code.co_name == "<module>":
                    return "logging-module", "logging._lock"
                kind, what = "logging-handler", type(f.f_locals.get("self")).__name__ + ".lock"
            elif fn.startswith(_CF) and kind == base:
                what = "concurrent.futures.%s %s" % (os.path.basename(fn)[:-3], f.f_code.co_name)
            elif _user(fn):
                site = _fmt(f)
                break
            f = f.f_back
        return kind, what + (" created at " + site if site else "")

    # The hot path: a lock the program created records its caller's code and
    # offset. A lock that threading, queue or logging created for the program
    # (Condition, Semaphore, Queue, a handler) is taken from inside those
    # modules, so its "deep" class walks out to the program's frame first;
    # only those pay for the walk. acquire() and __enter__() repeat their few
    # lines instead of calling a shared helper: one more Python call on every
    # acquire is most of the overhead that was measured.

    class _TLock(object):
        """threading.Lock that remembers its owner and where it was taken."""
        __slots__ = ("_l", "owner", "code", "lasti", "made", "__weakref__")
        _ff_base = None  # set on orphan classes: the class to return to

        def __init__(self):
            self._l = _raw_lock()
            self.owner = self.code = None
            self.lasti = 0
            self.made = _made("lock")
            _locks.add(self)
            if self.made[0] != "lock":
                self.__class__ = _TLockDeep

        def acquire(self, blocking=True, timeout=-1):
            if not self._l.acquire(blocking, timeout):
                return False
            self.owner = _ident()
            try:
                f = _getframe(1)
                self.code = f.f_code
                self.lasti = f.f_lasti
            except ValueError:  # called from C, no Python caller
                self.code = None
            return True

        def __enter__(self):
            self._l.acquire()
            self.owner = _ident()
            try:
                f = _getframe(1)
                self.code = f.f_code
                self.lasti = f.f_lasti
            except ValueError:  # called from C, no Python caller
                self.code = None
            return True

        def release(self):
            self.owner = None  # before the release: a new owner may follow at once
            self._l.release()

        def __exit__(self, t, v, tb):
            self.owner = None
            self._l.release()

        def locked(self):
            return self._l.locked()

        def held(self):
            return self._l.locked()

        def _at_fork_reinit(self):
            self._l._at_fork_reinit()
            self.owner = None
            _reinit(self)

        def __repr__(self):
            return "<forkfuzz-tracked " + repr(self._l)[1:]

    def _reinit(lk):
        """An at-fork hook re-initialised lk: in a child it is no orphan."""
        base = type(lk)._ff_base
        if base is not None:
            _emit("reinit", id=id(lk))
            lk.__class__ = base

    class _TLockDeep(_TLock):
        __slots__ = ()

        def acquire(self, blocking=True, timeout=-1):
            if not self._l.acquire(blocking, timeout):
                return False
            self.owner = _ident()
            try:
                f = _getframe(1)
                while f.f_code.co_filename in _SKIPF:
                    f = f.f_back
                self.code = f.f_code
                self.lasti = f.f_lasti
            except (ValueError, AttributeError):  # called from C, no Python caller
                self.code = None
            return True

        def __enter__(self):
            self._l.acquire()
            self.owner = _ident()
            try:
                f = _getframe(1)
                while f.f_code.co_filename in _SKIPF:
                    f = f.f_back
                self.code = f.f_code
                self.lasti = f.f_lasti
            except (ValueError, AttributeError):  # called from C, no Python caller
                self.code = None
            return True

    class _TRLock(object):
        """threading.RLock that remembers its owner and where it was first taken."""
        __slots__ = ("_l", "owner", "n", "code", "lasti", "made", "__weakref__")
        _ff_base = None

        def __init__(self, *args, **kwargs):
            self._l = _CRLock(*args, **kwargs)
            self.owner = self.code = None
            self.n = self.lasti = 0
            self.made = _made("rlock")
            _locks.add(self)
            if self.made[0] != "rlock":
                self.__class__ = _TRLockDeep

        def acquire(self, blocking=True, timeout=-1):
            if not self._l.acquire(blocking, timeout):
                return False
            self.n += 1
            if self.n == 1:
                self.owner = _ident()
                try:
                    f = _getframe(1)
                    self.code = f.f_code
                    self.lasti = f.f_lasti
                except ValueError:
                    self.code = None
            return True

        def __enter__(self):
            self._l.acquire()
            self.n += 1
            if self.n == 1:
                self.owner = _ident()
                try:
                    f = _getframe(1)
                    self.code = f.f_code
                    self.lasti = f.f_lasti
                except ValueError:
                    self.code = None
            return True

        def release(self):
            if self.owner != _ident():
                self._l.release()  # raises RuntimeError, as the real one does
                return
            self.n -= 1
            if not self.n:
                self.owner = None
            self._l.release()

        def __exit__(self, t, v, tb):  # on the thread that entered: no owner check
            n = self.n - 1
            if n < 0:
                self._l.release()  # raises: released inside the block already
                return
            self.n = n
            if not n:
                self.owner = None
            self._l.release()

        def held(self):
            return self.n > 0

        # Condition.wait uses these: keep the bookkeeping in step.
        def _is_owned(self):
            return self._l._is_owned()

        def _release_save(self):
            if self.owner != _ident():
                return self._l._release_save()  # raises
            st = (self.n, self.owner, self.code, self.lasti)
            self.n, self.owner = 0, None
            return (self._l._release_save(), st)

        def _acquire_restore(self, state):
            self._l._acquire_restore(state[0])
            self.n, self.owner, self.code, self.lasti = state[1]

        def _at_fork_reinit(self):
            self._l._at_fork_reinit()
            self.n, self.owner = 0, None
            _reinit(self)

        def __getattr__(self, name):  # _recursion_count and whatever a version adds
            if name == "_l":
                raise AttributeError(name)
            return getattr(self._l, name)

        def __repr__(self):
            return "<forkfuzz-tracked " + repr(self._l)[1:]

    class _TRLockDeep(_TRLock):
        __slots__ = ()

        def acquire(self, blocking=True, timeout=-1):
            if not self._l.acquire(blocking, timeout):
                return False
            self.n += 1
            if self.n == 1:
                self.owner = _ident()
                try:
                    f = _getframe(1)
                    while f.f_code.co_filename in _SKIPF:
                        f = f.f_back
                    self.code = f.f_code
                    self.lasti = f.f_lasti
                except (ValueError, AttributeError):
                    self.code = None
            return True

        def __enter__(self):
            self._l.acquire()
            self.n += 1
            if self.n == 1:
                self.owner = _ident()
                try:
                    f = _getframe(1)
                    while f.f_code.co_filename in _SKIPF:
                        f = f.f_back
                    self.code = f.f_code
                    self.lasti = f.f_lasti
                except (ValueError, AttributeError):
                    self.code = None
            return True

    def _attempt(kind, rid, what):
        """Record, before blocking, that this child takes an orphaned resource."""
        f = _getframe(2)
        _emit("attempt", id=rid, kind=kind, what=what, at=_at(f), stack=_stack(f),
              thread=threading.current_thread().name)

    # Orphans: a lock held at the fork by a thread that does not exist in this
    # child gets one of these classes (same layout), so only its acquires pay.
    def _orphan_class(base):
        class Orphan(base):
            __slots__ = ()
            _ff_base = base

            def acquire(self, blocking=True, timeout=-1):
                _attempt(self.made[0], id(self), self.made[1])
                ok = base.acquire(self, blocking, timeout)
                _emit("acquired" if ok else "failed", id=id(self))
                if ok:
                    self.__class__ = base
                return ok

            def __enter__(self):
                return self.acquire()

            def release(self):
                _emit("released", id=id(self))
                self.__class__ = base
                base.release(self)

        return Orphan

    _ORPHAN_OF = {c: _orphan_class(c) for c in (_TLock, _TLockDeep, _TRLock, _TRLockDeep)}

    # ---- semaphores: a unit taken holds no lock, so remember who took it ----

    class _SemMixin(object):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._ff_units = []  # (ident, code, lasti) per unit taken
            self._ff_orphan = None
            self._ff_made = _made("semaphore")[1]
            _sems.add(self)

        def acquire(self, blocking=True, timeout=None):
            if self._ff_orphan is not None:
                _attempt("semaphore", id(self), self._ff_orphan)
            ok = super().acquire(blocking, timeout)
            if self._ff_orphan is not None:
                _emit("acquired" if ok else "failed", id=id(self))
                self._ff_orphan = None if ok else self._ff_orphan
            if ok:
                try:
                    f = _getframe(1)
                    while f.f_code.co_filename in _SKIPF:
                        f = f.f_back
                    self._ff_units.append((_ident(), f.f_code, f.f_lasti))
                except (ValueError, AttributeError):
                    self._ff_units.append((_ident(), None, 0))
            return ok

        def __enter__(self):
            return self.acquire()

        def release(self, *args):  # 3.9+ takes n
            super().release(*args)
            units, me = self._ff_units, _ident()
            for _ in range(args[0] if args else 1):
                mine = [u for u in units if u[0] == me]
                try:
                    units.remove(mine[0] if mine else units[0])
                except (IndexError, ValueError):
                    break

    class _TSemaphore(_SemMixin, threading.Semaphore):
        pass

    class _TBoundedSemaphore(_SemMixin, threading.BoundedSemaphore):
        pass

    # ---- sqlite3: connections remember which threads are inside a query ------

    def _conn_class(base):
        class Tracked(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._ff_busy = {}  # thread ident -> caller frame's (code, lasti)
                self._ff_orphan = None
                _conns.add(self)

            def _ff_run(self, name, args, kwargs):
                if self._ff_orphan is not None:
                    _attempt("sqlite", id(self), self._ff_orphan)
                me, busy = _ident(), self._ff_busy
                prev = busy.get(me)
                f = _getframe(2)
                busy[me] = (f.f_code, f.f_lasti)
                try:
                    return getattr(super(), name)(*args, **kwargs)
                finally:
                    if prev is None:
                        busy.pop(me, None)
                    else:
                        busy[me] = prev

            def execute(self, *a, **k):
                return self._ff_run("execute", a, k)

            def executemany(self, *a, **k):
                return self._ff_run("executemany", a, k)

            def executescript(self, *a, **k):
                return self._ff_run("executescript", a, k)

            def commit(self, *a, **k):
                return self._ff_run("commit", a, k)

            def create_function(self, name, narg, func, *a, **k):
                if func is not None:
                    func = _callback(self._ff_busy, func)
                return super().create_function(name, narg, func, *a, **k)

        return Tracked

    def _callback(busy, func):
        """A user function run by a query: its thread is inside that query."""
        def cb(*args):
            me = _ident()
            mine = me not in busy
            if mine:
                c = func.__code__ if hasattr(func, "__code__") else None
                busy[me] = (c, 0)
            try:
                return func(*args)
            finally:
                if mine:
                    busy.pop(me, None)
        return cb

    def _patch_sqlite(mod):
        base_connect, classes = mod.connect, {}

        def connect(*args, **kwargs):
            if len(args) <= 5:  # factory is the sixth positional parameter
                f = kwargs.get("factory", mod.Connection)
                if f not in classes:
                    classes[f] = _conn_class(f)
                kwargs["factory"] = classes[f]
            return base_connect(*args, **kwargs)

        mod.connect = connect
        pkg = sys.modules.get("sqlite3")
        if pkg is not None and getattr(pkg, "connect", None) is base_connect:
            pkg.connect = connect

    class _Loader(object):
        """Wraps a loader to patch its module right after it executed."""
        def __init__(self, loader, patch):
            self._loader, self._patch = loader, patch

        def create_module(self, spec):
            return self._loader.create_module(spec)

        def exec_module(self, module):
            self._loader.exec_module(module)
            try:
                self._patch(module)
            except Exception as e:
                _error("patch " + module.__name__, e)

        def __getattr__(self, name):
            return getattr(self._loader, name)

    class _PostImport(object):
        """Patches sqlite3 when (and only if) the program imports it."""
        hooks = {"sqlite3.dbapi2": _patch_sqlite}

        def find_spec(self, name, path=None, target=None):
            patch = self.hooks.get(name)
            if patch is None:
                return None
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(name, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = _Loader(spec.loader, patch)
                    return spec
            return None

    # ---- the snapshot at a fork ---------------------------------------------

    def _item(kind, rid, what, owner, names, ats, taken):
        return {"id": rid, "kind": kind, "what": what, "owner": owner,
                "owner_name": names.get(owner, "<exited thread %d>" % owner),
                "taken_at": taken, "owner_at": ats.get(owner, "")}

    def _held_locks(me, names, ats):
        out = []
        for lk in list(_locks):
            o = lk.owner
            if o is None or o == me or not lk.held():
                continue
            out.append((lk, _item(lk.made[0], id(lk), lk.made[1], o, names, ats, _taken(lk))))
        return out

    def _held_modules(me, names, ats, frames):
        out = []
        bs = sys.modules.get("importlib._bootstrap")
        for name, ref in list(getattr(bs, "_module_locks", {}).items()):
            ml = ref()
            o = getattr(ml, "owner", None)
            if o is None or o == me:
                continue
            taken = _import_site(frames.get(o), name)
            out.append((ml, _item("module", id(ml), "import lock of module " + name,
                                  o, names, ats, taken)))
        return out

    def _import_site(f, name):
        """Where the owner's stack (innermost frame f) imported module name:
        the frame just outside the importlib frames of the _find_and_load
        that loads name. A nested import holds one lock per level, and each
        is named at its own import statement (the outermost at the program's
        import X), not at the innermost one; failing that, just outside the
        innermost importlib frames."""
        found = inside = False
        first = ""
        while f is not None:
            c = f.f_code
            if c.co_filename.startswith("<frozen importlib"):
                inside = True
                if c.co_name == "_find_and_load" and not found:
                    try:
                        found = f.f_locals.get("name") == name
                    except Exception:
                        pass
            elif inside:
                if found:
                    return _fmt(f)
                first = first or _fmt(f)
                inside = False
            f = f.f_back
        return first

    def _held_semaphores(me, names, ats):
        out = []
        for s in list(_sems):
            if getattr(s, "_value", 1) > 0:
                continue
            for o, code, lasti in list(s._ff_units):
                if o != me:
                    taken = "" if code is None else "%s:%d" % (code.co_filename, _line(code, lasti))
                    out.append((s, _item("semaphore", id(s), s._ff_made, o, names, ats, taken)))
                    break
        return out

    def _held_sqlite(me, names, ats):
        out = []
        for c in list(_conns):
            for o, (code, lasti) in list(c._ff_busy.items()):
                if o == me:
                    continue
                taken = "" if code is None else "%s:%d" % (code.co_filename, _line(code, lasti))
                out.append((c, _item("sqlite", id(c), "sqlite3 connection in a query", o,
                                     names, ats, taken)))
                break
        return out

    def _held_executors(me, names, ats, frames):
        """ThreadPoolExecutors whose workers exist: in the child they do not,
        and a submit that finds no free slot for a new worker never runs."""
        found = {}
        for o, f in frames.items():
            if o == me:
                continue
            task, g = None, f
            while g is not None:
                c = g.f_code
                if c.co_filename.startswith(_CF) and c.co_name == "run" and task is None:
                    task = g.f_locals.get("self")
                if c.co_filename.startswith(_CF) and c.co_name == "_worker":
                    ex = g.f_locals.get("executor_reference")
                    ex = ex() if ex is not None else None
                    if ex is not None:
                        e = found.setdefault(id(ex), [ex, o, None])
                        if task is not None:
                            e[1], e[2] = o, task
                    break
                g = g.f_back
        out = []
        for ex, o, task in found.values():
            workers, maxw = len(getattr(ex, "_threads", ())), getattr(ex, "_max_workers", 0)
            idle = getattr(getattr(ex, "_idle_semaphore", None), "_value", 0)
            if not (workers >= maxw or idle > 0):
                continue  # a submit in the child starts a new worker
            taken, fn = "", getattr(task, "fn", None)
            code = getattr(fn, "__code__", None)
            if code is not None:
                taken = "%s:%d" % (code.co_filename, code.co_firstlineno)
            what = "ThreadPoolExecutor(max_workers=%d), %d worker(s), %s" % (
                maxw, workers, "a task in flight" if task is not None else "idle")
            out.append((ex, _item("executor", id(ex), what, o, names, ats, taken)))
        return out

    def _held_writers(me, names, frames):
        """Threads inside print()/write() on an object with a buffered
        writer's lock (not observable itself). The line says which call it
        is; the object it writes to, looked up in the frame, says whether
        there is a lock at all: a StringIO, a BytesIO, a raw FileIO have
        none."""
        out = []
        for o, f in frames.items():
            if o == me:
                continue
            try:
                with open(f.f_code.co_filename, "rb") as fh:
                    lines = fh.read().splitlines()
                src = lines[f.f_lineno - 1] if 0 < f.f_lineno <= len(lines) else b""
                src = src.decode("utf-8", "replace")
            except (OSError, IndexError):
                continue
            w = _locked_writer(src, f)
            if w is None:
                continue
            at = _fmt(f)
            out.append((None, _item("buffered-writer", o, "a buffered writer (%s), written at %s "
                                    "(inferred from the stack)" % (type(w).__name__, at), o, names, {o: at}, at)))
        return out

    def _locked_writer(src, f):
        """The object with a buffered writer's lock that line src of frame f
        writes to, or None."""
        for obj in _written(src, f):
            if _has_lock(obj):
                return obj
        return None

    def _written(src, f):
        """The objects that the calls on line src write to: X in X.write(,
        X.flush(, X.writelines(; file= of print(, else sys.stdout."""
        objs = []
        for call in (".write(", ".writelines(", ".flush("):
            i = src.find(call)
            while i >= 0:
                objs.append(_lookup(_dotted_before(src, i), f))
                i = src.find(call, i + 1)
        i = src.find("print(")
        while i >= 0:
            if i == 0 or not (src[i - 1].isalnum() or src[i - 1] in "_."):
                j = src.find("file=", i)
                if j >= 0:
                    k = j + 5
                    while k < len(src) and (src[k].isalnum() or src[k] in "_."):
                        k += 1
                    objs.append(_lookup(src[j + 5:k], f))
                else:
                    objs.append(getattr(sys, "stdout", None))
            i = src.find("print(", i + 1)
        return [o for o in objs if o is not None]

    def _dotted_before(src, i):
        j = i
        while j > 0 and (src[j - 1].isalnum() or src[j - 1] in "_."):
            j -= 1
        return src[j:i]

    _NOTHING = object()

    def _lookup(dotted, f):
        """The value of a dotted name in frame f, read from dicts only (no
        property or __getattr__ of the program's runs), or None."""
        parts = dotted.split(".") if dotted else []
        if not parts or not parts[0] or not (parts[0][0].isalpha() or parts[0][0] == "_"):
            return None
        name = parts[0]
        try:
            loc = f.f_locals
        except Exception:
            loc = {}
        v = loc.get(name, _NOTHING)
        if v is _NOTHING:
            v = f.f_globals.get(name, _NOTHING)
        if v is _NOTHING:
            v = f.f_builtins.get(name, _NOTHING) if isinstance(f.f_builtins, dict) else _NOTHING
        for attr in parts[1:]:
            if v is _NOTHING or not attr:
                return None
            try:
                d = object.__getattribute__(v, "__dict__")
            except AttributeError:
                return None
            v = d.get(attr, _NOTHING)
        return None if v is _NOTHING else v

    def _has_lock(obj):
        """Whether writing to obj takes a buffered writer's lock."""
        if isinstance(obj, _io.TextIOWrapper):
            obj = getattr(obj, "buffer", None)
        return isinstance(obj, (_io.BufferedWriter, _io.BufferedRandom, _io.BufferedRWPair))

    def _logging_lock(me, names, ats):
        """logging._lock when logging was imported before us (an untracked RLock)."""
        lg = sys.modules.get("logging")
        lk = getattr(lg, "_lock", None)
        if lk is None or isinstance(lk, _TRLock):
            return []
        r = repr(lk)
        if "owner=" not in r:
            return []
        try:
            o = int(r.split("owner=")[1].split()[0])
        except ValueError:
            return []
        if o in (0, me):
            return []
        return [(lk, _item("logging-module", id(lk), "logging._lock", o, names, ats, ""))]

    _MP = os.path.join(_STD, "multiprocessing") + os.sep

    def _via(f):
        files = set()
        while f is not None:
            files.add(f.f_code.co_filename)
            f = f.f_back
        for path, via in ((_MP + "pool.py", "pool"), (_CF + "process.py", "pool"),
                          (_MP + "forkserver.py", "forkserver"), (_MP + "popen_fork.py", "multiprocessing")):
            if path in files:
                return via
        return "os.fork"

    def _snapshot():
        # sys._current_frames() holds this very frame, whose locals hold the
        # dict: a cycle that kept every thread's frames, and their locals,
        # alive until the cyclic collector ran (a BytesIO with an exported
        # buffer outlived its thread's use of it). Break it on every way out.
        frames = None
        try:
            frames = sys._current_frames()
            return _snapshot_of(frames)
        finally:
            if frames is not None:
                frames.clear()
            frames = None

    def _snapshot_of(frames):
        me = _ident()
        names = {i: t.name for i, t in list(threading._active.items())}
        ats = {i: _at(f) for i, f in frames.items()}
        here = frames.get(me)
        while here is not None and here.f_code.co_filename == _SELF:
            here = here.f_back
        held = (_held_locks(me, names, ats) + _held_modules(me, names, ats, frames) +
                _held_sqlite(me, names, ats) + _held_semaphores(me, names, ats) +
                _held_executors(me, names, ats, frames) +
                _held_writers(me, names, frames) + _logging_lock(me, names, ats))
        threads = [{"ident": i, "name": names.get(i, "<thread %d>" % i), "at": ats[i],
                    "stack": _stack(f)} for i, f in frames.items()]
        rec = {"seq": _seq, "thread": names.get(me, "?"), "ident": me, "site": _at(here),
               "via": _via(here), "stack": _stack(here), "threads": threads,
               "alive": [t["name"] for t in threads], "held": [h for _, h in held]}
        return {"rec": rec, "names": names, "ats": ats, "objs": held}

    def _before():
        global _seq, _in_fork, _pending
        if _in_fork:  # registered more than once: the first call did it
            return
        _in_fork = True
        _seq += 1
        try:
            _pending = _snapshot()
            _emit("fork", **_pending["rec"])
        except Exception as e:
            _pending = None
            _error("fork", e)

    def _after_parent():
        global _in_fork, _pending
        _in_fork, _pending = False, None
        _emit("forked", seq=_seq)

    def _after_child():
        global _in_fork, _pending
        _in_fork = False
        try:
            _open()
            snap, me = _pending or {"rec": {}, "names": {}, "ats": {}, "objs": []}, _ident()
            names, ats = snap["names"], snap["ats"]
            orphans = []
            # Ground truth from this child's memory, not the parent's earlier view.
            locks = []
            for lk, it in _held_locks(me, names, ats):
                lk.__class__ = _ORPHAN_OF.get(type(lk), type(lk))
                orphans.append(it)
                locks.append(lk)
            _watch_replaced(locks)
            for ml, it in _held_modules(me, names, ats, {}):
                ml.acquire = _orphan_call(ml.acquire, "module", id(ml), it["what"])
                orphans.append(it)
            for sem, it in _held_semaphores(me, names, ats):
                sem._ff_orphan = it["what"]
                orphans.append(it)
            for c, it in _held_sqlite(me, names, ats):
                c._ff_orphan = it["what"]
                orphans.append(it)
            for obj, it in snap["objs"]:
                k = it["kind"]
                if k == "executor":
                    obj.submit = _orphan_call(obj.submit, "executor", id(obj), it["what"])
                    orphans.append(it)
                elif k == "buffered-writer" or (k == "logging-module" and not isinstance(obj, _TRLock)):
                    orphans.append(it)  # not tracked here: what the parent saw
            # Taken-at of modules came from the parent's frames: keep those.
            byid = {it["id"]: it for it in snap["rec"].get("held", [])}
            for it in orphans:
                if not it["taken_at"] and it["id"] in byid:
                    it["taken_at"] = byid[it["id"]]["taken_at"]
            via = snap["rec"].get("via", "os.fork")
            _emit("child", ppid=os.getppid(), seq=_seq, via=via, sig=_SIG,
                  role="pool worker" if via == "pool" else "child", orphans=orphans)
        except Exception as e:
            _error("child", e)
        _pending = None

    _replaceable = []  # [(weak reference to an orphaned lock, its id, [(dict, key) that held it])]

    def _watch_replaced(locks):
        """Note where each orphaned lock is kept (an attribute, a module or
        dict entry) so that _late_child can tell when a hook replaced it."""
        global _replaceable
        _replaceable = []
        if not locks:
            return
        import gc
        ids = {id(lk) for lk in locks}
        slots = {i: [] for i in ids}
        for ref in gc.get_referrers(*locks):
            if type(ref) is dict:
                for k, v in ref.items():
                    if id(v) in ids:
                        slots[id(v)].append((ref, k))
                continue
            try:  # an object whose attributes are not (yet) a dict: 3.11+ keeps them inline
                attrs = vars(ref)
            except TypeError:
                continue
            for k, v in list(attrs.items()):
                if id(v) in ids:
                    slots[id(v)].append((attrs, k))
        _replaceable = [(_weakref.ref(lk), id(lk), slots[id(lk)]) for lk in locks]

    def _late_child():
        """In a child, after the program's own at-fork hooks (it runs after
        each one): an orphaned lock that a hook replaced with a new one (3.8
        logging's createLock(), a user's self.lock = Lock()) can no longer be
        taken by the child. Its old object is gone, or every place that kept
        it now keeps something else."""
        global _replaceable
        left = []
        for ref, rid, slots in _replaceable:
            lk = ref()
            if lk is None or (slots and all(d.get(k) is not lk for d, k in slots)):
                _emit("reinit", id=rid, how="replaced")
            else:
                left.append((ref, rid, slots))
            lk = None
        _replaceable = left

    def _orphan_call(fn, kind, rid, what):
        def call(*args, **kwargs):
            _attempt(kind, rid, what)
            return fn(*args, **kwargs)
        return call

    def _register_at_fork(*, before=None, after_in_child=None, after_in_parent=None):
        hooks = {k: v for k, v in (("before", before), ("after_in_child", after_in_child),
                                   ("after_in_parent", after_in_parent)) if v is not None}
        _ORIG_REGISTER(**hooks)
        if after_in_child is not None:
            # After-hooks run oldest first: follow this one, to see what it replaced.
            _ORIG_REGISTER(after_in_child=_late_child)
        if before is not None:
            # Before-hooks run newest first: stay newest, so the snapshot is
            # taken before any hook that may block (logging's takes its lock).
            _ORIG_REGISTER(before=_before)

    def _showwarnmsg(msg, _orig=warnings._showwarnmsg):
        try:
            text = str(msg.message)
            if "use of fork() may lead to deadlocks" in text:
                _emit("warning", seq=_seq, text=text, at="%s:%s" % (msg.filename, msg.lineno))
        except Exception:
            pass
        return _orig(msg)

    def _install():
        global _SIG
        _SIG = _pick_signal()
        _open()
        _emit("start", ppid=os.getppid(), sig=_SIG, version=sys.version.split()[0],
              argv=list(getattr(sys, "argv", [])), exe=sys.executable, stdlib=_STD,
              unbuffered=bool(os.environ.get("PYTHONUNBUFFERED")))
        threading.Lock = _TLock
        threading.RLock = _TRLock
        threading.Semaphore = _TSemaphore
        threading.BoundedSemaphore = _TBoundedSemaphore
        _ORIG_REGISTER(before=_before, after_in_parent=_after_parent, after_in_child=_after_child)
        os.register_at_fork = _register_at_fork
        warnings._showwarnmsg = _showwarnmsg
        sys.meta_path.insert(0, _PostImport())
        if "sqlite3.dbapi2" in sys.modules:
            _patch_sqlite(sys.modules["sqlite3.dbapi2"])

    try:
        _install()
    except Exception as e:
        sys.stderr.write("forkfuzz trace: instrumentation not installed: %r\n" % (e,))

