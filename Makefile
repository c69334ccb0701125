# forkfuzz: `make run` runs the main job on a built-in default, `make test` is what CI runs.
GO      ?= go
BIN     := bin/forkfuzz
PYTHONS ?= all

.PHONY: build test unit scenarios replay run bench fuzz pythons clean

build:
	$(GO) build -o $(BIN) ./cmd/forkfuzz

# Unit tests (they run real Python programs), then every scenario of the library
# under fork, spawn and forkserver on every interpreter found, checked against
# its expect: block, then the corpus replayed on every interpreter found.
test: build unit scenarios replay

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

scenarios: build
	$(BIN) run --python $(PYTHONS) scenarios/

replay: build
	$(BIN) replay --python $(PYTHONS) corpus/

# The main job: a one-minute fuzz campaign with a fixed seed on python3. It
# finds fork-only deadlocks, shrinks each to a minimal program, records them in
# out/corpus/ and ends with a summary: kind, minimal program, verdicts.
SEED   ?= 1
BUDGET ?= 60s
run: build
	$(BIN) fuzz --seed $(SEED) --budget $(BUDGET) --corpus out/corpus || test $$? -eq 1

# The speed figures side by side (executions/s, deadlock latency, the naive
# timeout, the floors) against the targets, written to out/bench.json; compare
# a later run with `bin/forkfuzz bench --compare out/bench.json -o new.json`.
bench: build
	mkdir -p out
	$(BIN) bench -o out/bench.json

# Each fuzz target for FUZZTIME (default 10m), one after the other: a target
# uses every core. Findings land in each package's testdata/fuzz/TARGET/;
# keep them there as regression seeds (plain `go test` runs them).
FUZZTIME ?= 10m
FUZZ_TARGETS := \
	./harness/scenario/:FuzzParse \
	./harness/scenario/:FuzzMarshalText \
	./harness/scenario/:FuzzValidate \
	./harness/render/:FuzzRender \
	./harness/render/:FuzzRenderAbout \
	./harness/corpus/:FuzzLoad
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -timeout 0 $$pkg; \
	done

# The newest CPython of each minor from 3.13 that Debian unstable ships (binary
# packages), unpacked into pyenv's versions folder where discovery finds them.
# Quick and a no-op when they are already there; see .ci/install-pythons.
pythons:
	bash .ci/install-pythons

clean:
	rm -rf bin out
