_GLOBALS = sorted(globals())
import faulthandler, multiprocessing, os, signal, sys, threading  # a rendered program's
import atexit, json
mods = sorted(m for m in sys.modules if m != "json" and not m.startswith("json."))
callbacks = atexit._ncallbacks()
meta_path = [type(f).__name__ for f in sys.meta_path]
# What a rendered program imports later (argparse; a fork-method Process
# start; traceback, as logging does): the executor has these ready.
import argparse, multiprocessing.popen_fork, traceback
after = {
    "mods": sorted(m for m in sys.modules if m != "json" and not m.startswith("json.")),
    "loaded": [m for m in sys.modules if m not in mods and m != "json" and not m.startswith("json.")],  # in the order sys.modules has them
    "callbacks": atexit._ncallbacks(), "meta_path": [type(f).__name__ for f in sys.meta_path],
    "specs": {m: [s.name, s.origin, type(s.loader).__name__, s.cached, s.parent]
              for m, s in ((m, getattr(sys.modules[m], "__spec__", None)) for m in sorted(sys.modules)) if s is not None},
    "attrs": sorted(a for a in vars(multiprocessing) if not a.startswith("__")),
}
sig = {}
for s in range(1, signal.NSIG):
    try:
        h = signal.getsignal(s)
    except ValueError:
        continue
    sig[s] = h if isinstance(h, int) else getattr(h, "__name__", repr(h))
print(json.dumps({
    "mods": mods, "callbacks": callbacks, "meta_path": meta_path, "after_popen_fork": after, "threads": threading.active_count(), "sig": {str(k): str(v) for k, v in sig.items()},
    "fds": sorted(os.listdir("/proc/self/fd")), "stdin": os.readlink("/proc/self/fd/0"), "argv": sys.argv, "path": sys.path, "cwd": os.getcwd(),
    "pgrp": os.getpgrp() == os.getpid(), "mpmain": sys.modules.get("__mp_main__") is sys.modules["__main__"],
    "name": __name__, "file": __file__, "env": dict(os.environ), "mask": sorted(int(x) for x in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
    "stdout": [type(sys.stdout.buffer).__name__, sys.stdout.line_buffering, sys.stdout.encoding, getattr(sys.stdout.buffer, "raw", None).__class__.__name__, getattr(sys.stdout.buffer, "buffer_size", None)],
    "dwb": sys.dont_write_bytecode, "globals": _GLOBALS, "loader": type(__loader__).__name__,
    "spec": repr(__spec__), "package": repr(__package__), "orig_argv": getattr(sys, "orig_argv", None), "flags": str(sys.flags),
    "sigcgt": [l for l in open("/proc/self/status") if l.startswith(("SigCgt", "SigIgn", "SigBlk"))],
}, sort_keys=True))
sys.exit(3)
