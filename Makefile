# The two commands of the README's quick start are `make lab` and
# `make test`; both install HAProxy, nginx, Caddy and Apache first if missing.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Debian puts haproxy in /usr/sbin, which a normal user's PATH lacks.
export PATH := $(PATH):/usr/sbin
GO ?= go

.PHONY: lab test build deps check fuzz bench soak clean

lab: deps
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/stickyprobe lab

test: deps check
	$(GO) test -race -count=1 -timeout 20m ./...

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/stickyprobe ./cmd/stickyprobe

deps:
	@scripts/install-deps

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...

# Each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
FUZZTIME ?= 20s
fuzz:
	@for pkg in ./scenarios ./probe ./report ./redact ./hacfg ./hacheck ./haruntime ./haplog; do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

bench:
	bench/run

# The monitor's memory over >= 500 cycles and >= 1M requests against the lab
# (about 13 minutes); a measurement, so not part of `make test`.
soak: deps
	$(GO) run ./bench/monitor-soak

clean:
	rm -rf bin
