# Threads start and finish constantly while the main thread waits on a lock
# without timeout: never a deadlock.
import threading, time
from fftrace import ev

done = threading.Lock()
done.acquire()


def spawner():
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
    done.release()


if __name__ == "__main__":
    threading.Thread(target=spawner).start()
    ev("step", "main:1", "take", "done")
    done.acquire()
    ev("result", "ok")
