# Ailurus — build, run, test. See README.md.
GO        ?= go
BIN       := bin/ailurus
PKGS      := ./...
# Time limits keep a wedged test from eating CI's budget; the suite is far shorter.
TEST_TIMEOUT ?= 20m
# Fuzz budgets are execution counts, not durations: Go 1.26's fuzz
# coordinator can report its own end-of-run deadline as a failure
# (golang/go#75804, fixed in 1.27) on a loaded machine.
FUZZTIME  ?= 20000x

.PHONY: all build run test test-deps test-unit test-e2e fuzz bench bench-scale bench-storage vet fmt clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$$(git describe --tags --always --dirty 2>/dev/null || echo dev) -X main.commit=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" -o $(BIN) ./cmd/ailurus

# A single node in developer mode: Kafka on 127.0.0.1:9092, admin API on
# 127.0.0.1:9644, data under ./.ailurus/, no root needed. Ctrl-C stops it.
run: build
	./$(BIN) start --dev

# test installs what the tests need, then runs every test, a short fuzz pass
# and, as root, the package test in a real systemd (about 2.5 minutes, the
# first Debian bootstrap included).
test: test-deps vet test-unit fuzz test-packaging-if-root

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
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/kwire/
	$(GO) test -run '^$$' -fuzz '^FuzzHandlers$$' -fuzztime $(FUZZTIME) ./shard/
	$(GO) test -run '^$$' -fuzz '^FuzzParseRefs$$' -fuzztime $(FUZZTIME) ./shard/

# Only the end-to-end suite (real binary, real clients).
test-e2e: test-deps
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./tests/

# Peers side by side (issue 4): Ailurus, kfake in memory, kfake with fsync and
# NATS JetStream (fsync on every write, and its default sync), fresh on free
# ports, T1/T2/T3/L1 in interleaved rounds with the raw disk limits (D1/D2),
# then C1 (1 GiB catch-up read). One table of ratios. About 9 minutes on
# 2 vCPUs; not part of `make test`. Flags: BENCH_FLAGS="-rounds 5 -c1-mib 256
# -format json".
bench: build
	$(GO) run ./cli/bench/cmd/benchsuite -binary $(BIN) $(BENCH_FLAGS)

# One Ailurus node (2 shards) with 100, 1,000 and 10,000 partitions: time to
# create them, idle RSS and CPU, restart time (issue 4). About 7 minutes.
# Flags: BENCH_SCALE_FLAGS="-scale 1000 -format json".
bench-scale: build
	$(GO) run ./cli/bench/cmd/benchsuite -binary $(BIN) -scale 100,1000,10000 $(BENCH_SCALE_FLAGS)

# Storage benchmark: the partition log against the raw disk, one table.
bench-storage:
	$(GO) run ./internal/storage/cmd/storagebench $(BENCH_STORAGE_FLAGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# Packages (nfpm, installed on first use by scripts/test-deps.sh packaging):
# dist/ailurus_<version>_<arch>.deb and dist/ailurus-<version>.<arch>.rpm.
# The version comes from git describe (scripts/package.sh).
.PHONY: deb rpm packages
deb:
	./scripts/package.sh deb dist

rpm:
	./scripts/package.sh rpm dist

packages: deb rpm

# The packages in a real systemd (systemd-nspawn, root, about 2.5 minutes the
# first time: debootstrap is cached under ~/.cache/ailurus/). Run by `make
# test` as root.
.PHONY: test-packaging test-packaging-if-root
test-packaging:
	./scripts/test-packaging.sh

# systemd-nspawn and debootstrap need root: elsewhere make test says so and
# leaves the package test out.
test-packaging-if-root:
	@if [ "$$(id -u)" -eq 0 ]; then $(MAKE) --no-print-directory test-packaging; \
	  else echo "make test: not root, so the package test is left out; run: sudo make test-packaging"; fi
