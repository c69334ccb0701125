"""Telemetry plugin of the example CI runner: buffers metrics and flushes them
from a background thread, which holds the buffer's lock while it sends a batch.

That is the bug `forkfuzz trace` finds: a fork taken while the flusher is inside
the lock gives the child a locked lock and no flusher to release it.
"""

import threading

_lock = threading.Lock()
_buffer = []
_ack = threading.Event()
_stop = threading.Event()

# Set while the flusher is inside the lock, sending. The runner waits for it so
# that its fork lands there on every run: the race a real CI loses now and then,
# made certain (Events only, no sleeps decide the order).
inside = threading.Event()


def record(name, value):
    """Record one metric: takes the buffer's lock."""
    with _lock:
        _buffer.append((name, value))


def acknowledge():
    """The collector's answer to the batch being sent."""
    _ack.set()


def _send(batch):
    # Stand-in for an HTTP POST to the collector: it waits for the answer,
    # still holding the lock (the mistake).
    _ack.wait()


def _flush_forever():
    while True:
        with _lock:
            batch = list(_buffer)
            del _buffer[:]
            inside.set()
            _send(batch)
            inside.clear()
        if _stop.wait(0.05):
            return


def setup():
    """Start the flusher thread; the runner calls it when it loads its plugins."""
    threading.Thread(target=_flush_forever, name="telemetry-flusher", daemon=True).start()


def shutdown():
    _stop.set()
