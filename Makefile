# forkfuzz: `make run` runs the main job on a built-in default, `make test` is what CI runs.
GO      ?= go
BIN     := bin/forkfuzz
PYTHONS ?= all

.PHONY: build test unit scenarios run bench fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/forkfuzz

# Unit tests (they run real Python programs), then every scenario of the library
# under fork, spawn and forkserver on every interpreter found, checked against
# its expect: block.
test: build unit scenarios

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

scenarios: build
	$(BIN) run --python $(PYTHONS) scenarios/

run: build
	$(BIN) run scenarios/

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 20x ./harness/run/

# Each fuzz target for FUZZTIME (default 10m).
FUZZTIME ?= 10m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./harness/scenario/

clean:
	rm -rf bin
