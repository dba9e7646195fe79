# Ailurus — build, run, test. See README.md.
GO        ?= go
BIN       := bin/ailurus
PKGS      := ./...
# Time limits keep a wedged test from eating CI's budget; the suite is far shorter.
TEST_TIMEOUT ?= 20m
FUZZTIME  ?= 10s

.PHONY: all build test test-deps test-unit fuzz bench bench-storage vet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/ailurus

# test installs what the tests need, then runs every test and a short fuzz pass.
test: test-deps vet test-unit fuzz

test-deps:
	@./scripts/test-deps.sh

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

test-unit:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

# Each fuzz target runs briefly; the corpora found stay under testdata/fuzz.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) ./internal/batch/

bench: bench-storage

# Storage benchmark: the partition log against the raw disk, one table.
bench-storage:
	$(GO) run ./internal/storage/cmd/storagebench

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
