# opsdeck: the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing first (scripts/setup.sh) and are quick to
# repeat once everything is built.

SHELL := bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

# Everything dist/ is built from: the app (its sources and app/entry.html, the
# HTML template of every page), the page list and the rest of api/, the
# stylesheet and assets, and the build itself.
APP_SOURCES := $(shell find app api/src api/examples style public -type f 2>/dev/null) \
               api/Cargo.toml Trunk.toml Cargo.toml Cargo.lock scripts/build-app.sh

.PHONY: run test setup setup-browser app lint bench-size bench-page bench-kpi bench-vp bench-retention bench-guard bench-runs bench-alerts bench-store bench-viewers bench-proxy clean

## run: build the app and serve the console on the embedded sim at http://127.0.0.1:8080/ops
run: setup app
	cargo run -p opsdeck-server --bin opsdeck -- $(ARGS)

## test: formatting, lints, and every test (browser tests included)
test: setup-browser app lint
	cargo test --workspace

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup.sh --browser

## app: dist/ from the Trunk release build (rebuilt only when its sources change)
app: dist/index.html

dist/index.html: $(APP_SOURCES)
	scripts/build-app.sh

## lint: rustfmt, leptosfmt (the view! macros, leptosfmt.toml) and clippy (warnings denied) for native and wasm
lint: setup
	cargo fmt --all --check
	@leptosfmt --check -q app/src || { echo "view! macros need formatting: run leptosfmt app/src" >&2; exit 1; }
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p opsdeck-app --target wasm32-unknown-unknown -- -D warnings

## bench-size: bundle sizes, raw and gzip
bench-size: setup app
	@scripts/bench-size.sh

## bench-page: time from navigation to the Status panel showing data, in headless Chromium
bench-page: setup-browser app
	cargo run --release -p opsdeck-tests --bin bench-page

## bench-kpi: rollup endpoint latency at 100k, 1M and 10M raw events; rebuild vs GROUP BY
bench-kpi:
	cargo run --release -p opsdeck-tests --bin bench-kpi

## bench-vp: VP metrics endpoints and judging a response at ~1M missions; latency chart render in Chromium at ~100k; the evidence log (endpoint, page in Chromium) at 10,000 rows
bench-vp: setup-browser app
	cargo run --release -p opsdeck-tests --bin bench-vp

## bench-retention: retention endpoints at 1,000 tenants × 365 days; sweep table render in Chromium at 1,000 tenants
bench-retention: setup-browser app
	cargo run --release -p opsdeck-tests --bin bench-retention

## bench-guard: guard + proxy added latency; a flood of 10,000 refusals against the audit log
bench-guard:
	cargo run --release -p opsdeck-tests --bin bench-guard

## bench-runs: run history endpoints (list, filters, one run's page data) with 10,000 stored runs
bench-runs:
	cargo run --release -p opsdeck-tests --bin bench-runs

## bench-alerts: the alert model's evaluation cost per cycle with every source on; guardrail stop to webhook
bench-alerts:
	cargo run --release -p opsdeck-tests --bin bench-alerts

## bench-store: audit write latency (median, p99) on SQLite and on PostgreSQL (a local cluster, fsync on)
bench-store: setup-browser
	cargo run --release -p opsdeck-tests --bin bench-store

## bench-viewers: 1 to 1,000 simulated /ops viewers: upstream requests per 3 s, console p99 and RSS, shared reads off and on
bench-viewers: app
	cargo build --release -p opsdeck-server --bin opsdeck
	cargo run --release -p opsdeck-tests --bin bench-viewers

## bench-proxy: GET throughput and added latency through opsdeck (cache miss and hit) against nginx proxy_pass to the same sim
bench-proxy:
	cargo build --release -p opsdeck-server --bin opsdeck
	scripts/bench-proxy.sh

clean:
	cargo clean
	rm -rf dist
