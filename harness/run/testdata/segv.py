import os
from fftrace import ev

if __name__ == "__main__":
    ev("step", "main:0", "use", "x")
    os.kill(os.getpid(), 11)
