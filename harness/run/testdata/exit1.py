from fftrace import ev

if __name__ == "__main__":
    ev("step", "main:0", "use", "x")
    raise ValueError("boom")
