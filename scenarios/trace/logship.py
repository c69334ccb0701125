"""Log shipping plugin of the example CI runner: a logging handler that hands
records to a background shipper thread through a queue.

Harmless at a fork: the shipper waits in Queue.get(), which holds no lock while
it waits, and CPython re-creates logging handlers' locks in the child.
"""

import logging
import queue
import sys
import threading

_records = queue.Queue()


class ShipHandler(logging.Handler):
    """Queues every record for the shipper thread."""

    def emit(self, record):
        _records.put(self.format(record))


def _ship_forever():
    while True:
        line = _records.get()
        if line is None:
            return
        sys.stderr.write("shipped: %s\n" % line)


def setup():
    """Install the handler on the root logger and start the shipper thread."""
    handler = ShipHandler()
    handler.setFormatter(logging.Formatter("%(process)d %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    threading.Thread(target=_ship_forever, name="log-shipper", daemon=True).start()


def shutdown():
    _records.put(None)
