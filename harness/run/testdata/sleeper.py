# A parent and a forked child that sleep: for cancellation.
import os, time
from fftrace import ev

if __name__ == "__main__":
    ev("step", "main:0", "fork", "os.fork")
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    time.sleep(60)
