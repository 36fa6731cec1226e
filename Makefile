# kiswatch — two commands: `make run` and `make test`.
CARGO ?= cargo

.PHONY: run test lint web-deps web-build fmt build bench clean

## Start the product on its embedded default (the built-in KIS simulator, no credentials needed):
## `kiswatch serve` in demo mode, web UI at http://127.0.0.1:8080 (the banner says what to open).
run: web-build
	$(CARGO) run --release -p kiswatch -- serve

## The web UI (Vite) into web/dist, which the binary embeds.
web-build: web-deps
	cd web && npm run build

## Every test: formatting, lints, unit, property and integration tests.
test: lint
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

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

clean:
	$(CARGO) clean
