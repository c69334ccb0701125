# forkfuzz trace: this sitecustomize loads the instrumentation (_forkfuzz_trace,
# next to it), then runs the sitecustomize that it shadows on sys.path, if any.
import sys

_dont_write = sys.dont_write_bytecode
sys.dont_write_bytecode = False  # cache our own module, in our own directory only
try:
    import _forkfuzz_trace
finally:
    sys.dont_write_bytecode = _dont_write
_forkfuzz_trace.chain()
