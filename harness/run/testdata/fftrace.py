"""Trace protocol of FORMAT.md for the hand-written test programs."""
import faulthandler, os, signal, sys

faulthandler.register(signal.SIGUSR1, all_threads=True)
TRACE = os.environ.get("FORKFUZZ_TRACE") == "1"
ROLE = ["parent"]


def ev(*words):
    if TRACE:
        os.write(2, ("@forkfuzz %d %s %s\n" % (os.getpid(), ROLE[0], " ".join(str(w) for w in words))).encode())


def method():
    return sys.argv[sys.argv.index("--start-method") + 1]
