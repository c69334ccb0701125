#!/usr/bin/env python3
"""A parallel test runner, in miniature: the plain Python twin of
scenarios/ci-runner-pool.yaml, for `forkfuzz trace`.

It loads its plugins (telemetry, log shipping), each of which starts a
background thread, then maps feature files over a fork Pool. Each task logs and
records telemetry. The telemetry flusher is inside its lock at the fork, so
every worker waits for that lock forever and the run hangs:

    forkfuzz trace -- python3 scenarios/trace/ci_runner.py

    python3 ci_runner.py              # fork: hangs (Ctrl-C to stop)
    python3 ci_runner.py spawn        # completes
"""

import logging
import multiprocessing
import sys

import logship
import telemetry

FEATURES = ["login.feature", "search.feature", "checkout.feature", "profile.feature"]

log = logging.getLogger("ci_runner")


def run_feature(path):
    """One task in a worker: run a feature file, log it, record telemetry."""
    log.info("running %s", path)
    telemetry.record("feature.ran", path)
    return path, "passed"


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "fork"
    telemetry.setup()
    logship.setup()
    telemetry.inside.wait()  # the fork lands while the flusher sends a batch
    with multiprocessing.get_context(method).Pool(2) as pool:
        telemetry.acknowledge()  # the parent's flusher goes on; the workers' copies of its lock stay held
        results = pool.map(run_feature, FEATURES)
    for path, outcome in results:
        print("%s: %s" % (path, outcome))
    telemetry.shutdown()
    logship.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
