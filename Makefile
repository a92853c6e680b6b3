# vigil build and test targets. `make test` is what CI runs (.ci/run).
GO ?= go
PKGS := ./...
FUZZTIME ?= 5s

.PHONY: all deps build test vet fmt-check tidy-check unit fuzz-short fuzz bench checkers-bench swarm soak qemu ipvs-lane interop deb deb-test man clean

all: build

build:
	$(GO) build -o bin/vigil ./cmd/vigil

# The full suite: static checks, every unit, scenario and (as root) namespace
# test, plus short bounded fuzz runs, and (as root) the Debian package test.
test: deps fmt-check tidy-check vet unit fuzz-short ipvs-lane deb-test

# Debian packages the tests use (installed when root and missing) and Go modules.
deps:
	@./scripts/install-deps.sh

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Fails (printing the diff) when `go mod tidy` would change go.mod or go.sum;
# -diff leaves both files untouched.
tidy-check:
	@$(GO) mod tidy -diff || { echo "tidy-check: go.mod/go.sum are not tidy; run go mod tidy"; exit 1; }

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -count=1 -timeout 45m $(PKGS)

# Each fuzz target for FUZZTIME (default 5 s) — the bounded lane of make test.
fuzz-short:
	@./scripts/fuzz.sh $(FUZZTIME)

# Long fuzzing: FUZZTIME=10m make fuzz
fuzz:
	@./scripts/fuzz.sh $(or $(FUZZTIME),2m)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Health checking at scale (root, the qemu lane's cached kernel): vigil's
# checkers and keepalived -C on the same 1,000- and 10,000-real-server
# configurations in one qemu guest (README, Performance). Not in make test.
checkers-bench:
	bench/checkers.sh

# A long simulation swarm (make test runs 200 seeds x 10 simulated minutes).
SWARM_SEEDS ?= 5000
SWARM_MINUTES ?= 60
swarm:
	SWARM_SEEDS=$(SWARM_SEEDS) SWARM_MINUTES=$(SWARM_MINUTES) $(GO) test -count=1 -timeout 0 -run 'TestSwarm$$' -v ./sim/harness

# The soak (as root; not part of make test): a randomised, seeded schedule
# of faults (SIGKILL + restart, SIGSTOP/SIGCONT, cable pulled, VIP deleted,
# journal disk full, CPU hog, graceful restart, reload) on a namespace lab of
# three vigil nodes, then of vigil beside keepalived, with a summary table:
# split-brain and lost-VIP seconds outside the protocol's windows, leaks,
# journal gaps, replay verify. SOAK_MINUTES (total, split between the
# flavours) overrides SOAK_ITER (faults per flavour); SOAK_SEED reproduces a
# run (each run prints its seed); SOAK_FLAVOURS=vigil|mixed|kmaster (keepalived
# as the preferred master) picks flavours; SOAK_FAULTS=kill,stop,... picks faults.
# Then the single-fault tests too long for make test: SOAK_RESTARTS (default
# 100) SIGKILLs at random phases of transitions, each followed by a restart
# (e2e TestRestartSoak), and the 60 s SIGSTOP of a master (e2e
# TestMasterStalled with VIGIL_SOAK=1).
SOAK_ITER ?= 12
SOAK_RESTARTS ?= 100
soak:
	VIGIL_SOAK=1 SOAK_ITER=$(SOAK_ITER) SOAK_MINUTES=$(SOAK_MINUTES) SOAK_SEED=$(SOAK_SEED) SOAK_FLAVOURS=$(SOAK_FLAVOURS) SOAK_FAULTS=$(SOAK_FAULTS) \
		$(GO) test -count=1 -timeout 0 -run 'TestSoak$$' -v ./soak
	VIGIL_SOAK_RESTARTS=$(SOAK_RESTARTS) $(GO) test -count=1 -timeout 0 -run 'TestRestartSoak$$' -v ./e2e
	VIGIL_SOAK=1 $(GO) test -count=1 -timeout 0 -run 'TestMasterStalled$$' -v ./e2e

# The IPVS lane: boots Debian's kernel under qemu (software emulation) and
# runs the adapters/ipvs kernel tests inside it; ~10 s once cached.
qemu:
	test/qemu/run.sh -v

# The bounded run of that lane inside make test: needs root (apt-get, and
# the kernel download) — skipped with a message otherwise.
ipvs-lane:
	@if [ "$$(id -u)" = 0 ]; then test/qemu/run.sh; else echo "ipvs-lane: skipped (needs root to install qemu and fetch the kernel)"; fi

# The interop matrix alone (as root): vigil against keepalived and vigil
# against vigil, every VRRP flavour, role and start order (~5 minutes).
interop:
	$(GO) test -count=1 -run 'TestInteropMatrix' -v ./e2e/

# The Debian package: dist/vigil_VERSION_amd64.deb (VERSION: vigil --version's
# number, daemon.Version), built by dist/mkdeb with nfpm from dist/nfpm.yaml:
# /usr/sbin/vigil (and a keepalived link), dist/vigil.service, vigil(8),
# /etc/default/vigil. It replaces the keepalived package (README).
deb:
	$(GO) build -trimpath -ldflags "-s -w" -o bin/vigil-deb ./cmd/vigil
	$(GO) run ./dist/mkdeb -dist dist -binary bin/vigil-deb -out dist

# The package test (~30 s once built): contents with dpkg-deb, then (as root)
# dpkg -i/-r/-P in a throwaway overlay of / that never touches the host.
deb-test:
	VIGIL_DEB_TEST=1 $(GO) test -count=1 -run 'TestDeb' ./dist/

# Regenerate dist/vigil.8 from the command tables (the test fails when stale).
man:
	$(GO) test -count=1 -run 'TestManPageUpToDate' ./cmd/vigil/ -update

clean:
	rm -rf bin dist/*.deb
