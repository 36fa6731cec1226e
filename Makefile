# kiswatch — two commands: `make run` and `make test`.
CARGO ?= cargo

.PHONY: run test lint web-deps web-build web-unit e2e e2e-prereqs redis-prereqs fmt build bench clean conformance-python demo-check serve-load

## Start the product on its embedded default (the built-in KIS simulator, no credentials needed):
## `kiswatch serve` in demo mode, web UI at http://127.0.0.1:8080 (the banner says what to open).
run: web-build
	$(CARGO) run --release -p kiswatch -- serve

## The web UI (Vite) into web/dist, which the binary embeds.
web-build: web-deps
	cd web && npm run build

## Every test: formatting, lints, unit, property and integration tests. Examples and benchmarks are
## compiled by `lint` (clippy --all-targets type-checks them); linking them too is not a test.
test: lint web-build redis-prereqs
	$(CARGO) test --workspace --lib --bins --tests
	$(CARGO) test --workspace --doc
	$(MAKE) web-unit
	$(MAKE) e2e
	$(MAKE) conformance-python

## The unmodified python-kis (pinned) against `kiswatch sim`; skipped with a reason without Python 3.
conformance-python:
	$(CARGO) build -p kiswatch
	tests/python/run.sh "$${CARGO_TARGET_DIR:-target}/debug/kiswatch"

lint: web-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd web && npm run --silent lint

## The web UI's npm packages, installed from the lockfile when missing.
web-deps: web/node_modules/.package-lock.json

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

fmt:
	$(CARGO) fmt --all

build: web-build
	$(CARGO) build --release -p kiswatch

## Benchmarks (not part of `make test`); see BENCHMARKS.md.
bench:
	$(CARGO) bench --workspace

## The demo's promise, measured: the release binary started as `make run` starts it (fresh data dir),
## the time to its first trigger, three runs; exits non-zero past two minutes. See BENCHMARKS.md.
demo-check:
	$(CARGO) build --release -p kiswatch --bin kiswatch --example demo_first_trigger
	"$${CARGO_TARGET_DIR:-target}/release/examples/demo_first_trigger" 3

## The serve load benchmark (50 stocks x 4 detail requests, cold and warm, with the semaphore baseline).
serve-load:
	$(CARGO) run --release -p kiswatch --example serve_load

clean:
	$(CARGO) clean

## ---- Web UI tests (web/) ----------------------------------------------------------------------------
CHROMIUM ?= /usr/bin/chromium

## Unit tests of the UI (vitest): formatting, colour rules, the WebSocket store.
web-unit: web-deps
	cd web && npm run --silent test

## Debian's redis-server for the Redis slot ledger's tests (crates/kis/tests/it/ledger_redis.rs start
## their own on a free loopback port; without it they skip, except under CI), installed when missing.
redis-prereqs:
	@if ! command -v redis-server >/dev/null; then \
	  echo "redis-server is missing; installing Debian's redis-server package"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update && apt-get install -y redis-server; \
	  else \
	    echo "cannot install redis-server here: run 'apt-get install -y redis-server' as root" >&2; \
	    if [ -n "$$CI" ]; then exit 1; fi; \
	  fi; \
	fi

## Debian's Chromium for the end-to-end tests, installed when missing (needs root and the Debian archive).
e2e-prereqs:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "e2e: $(CHROMIUM) is missing; installing Debian's chromium package"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update && apt-get install -y chromium; \
	  else \
	    echo "e2e: cannot install Chromium here: run 'apt-get install -y chromium' as root, or set CHROMIUM=/path/to/chromium" >&2; exit 1; \
	  fi; \
	fi

## End-to-end tests: the real kiswatch (debug build, demo simulator) driven through Chromium by playwright-core.
## Screenshots land in target/e2e-screenshots/.
e2e: e2e-prereqs web-build
	$(CARGO) build -p kiswatch
	cd web && CHROMIUM=$(CHROMIUM) npm run --silent e2e
