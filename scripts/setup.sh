#!/usr/bin/env bash
# Install what opsdeck needs, skipping whatever is already there.
#
#   scripts/setup.sh            build tools: wasm32 target, Trunk, wasm-bindgen CLI, wasm-opt, leptosfmt
#   scripts/setup.sh --browser  the same, plus Chromium and chromedriver for the browser tests,
#                               Alertmanager and promtool for the receiver's and /metrics' tests, and
#                               PostgreSQL's server for the PostgreSQL store's tests
#
# Everything comes from the package registries (crates.io, npm, Debian); no
# build step downloads anything afterwards (Trunk.toml sets offline = true).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# 0.1.33 builds with --locked on rustc 1.95 (checked); it formats the view! macros for `make lint`.
LEPTOSFMT_VERSION=0.1.33
BINARYEN_VERSION=123

browser=0
[[ "${1:-}" == "--browser" ]] && browser=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
    say "installing Trunk $TRUNK_VERSION (takes about 9 minutes on 2 cores, once)"
    cargo install --locked trunk --version "$TRUNK_VERSION"
fi

# The CLI must equal the wasm-bindgen crate in Cargo.lock, and Trunk.toml must
# name the same version, or Trunk would try to download one.
wb_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ -z "$wb_version" ]]; then
    echo "setup: cannot find wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if ! grep -q "wasm_bindgen = \"$wb_version\"" Trunk.toml; then
    echo "setup: Trunk.toml must say wasm_bindgen = \"$wb_version\" to match Cargo.lock" >&2
    exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb_version"; then
    say "installing wasm-bindgen-cli $wb_version (matches Cargo.lock)"
    # Not --locked: the CLI's own lockfile names a crate version the registry lacks.
    cargo install wasm-bindgen-cli --version "$wb_version"
fi

if ! leptosfmt --version 2>/dev/null | grep -qx "leptosfmt $LEPTOSFMT_VERSION"; then
    say "installing leptosfmt $LEPTOSFMT_VERSION (about 3 minutes on 2 cores, once)"
    cargo install --locked leptosfmt --version "$LEPTOSFMT_VERSION"
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm; Debian's is too old)"
    sudo_if_needed npm install -g "binaryen@$BINARYEN_VERSION"
fi

if [[ $browser -eq 1 ]]; then
    if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
        say "installing Chromium and chromedriver from Debian"
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
    fi
    # The Alertmanager receiver's tests start the real one themselves, on a
    # loopback port with a throwaway config; the /metrics test runs Prometheus'
    # `promtool check metrics` on what the console serves; the PostgreSQL
    # store's tests (and `make bench-store`) run Debian's server binaries
    # themselves (initdb in a temporary directory, a server on a free loopback
    # port, as the package's `postgres` user when run as root). The packages
    # would also start their daemons where an init system lets them (and fail
    # the install when that start fails), so unless the machine already has a
    # policy-rc.d, one that denies service starts is in place for the install
    # and removed after.
    install_without_services() {
        sudo_if_needed apt-get update -qq
        local made_policy=0 status=0
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            sudo_if_needed sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
            made_policy=1
        fi
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" || status=$?
        [[ $made_policy -eq 1 ]] && sudo_if_needed rm -f /usr/sbin/policy-rc.d
        [[ $status -eq 0 ]] || exit "$status"
    }
    packages=()
    [[ -x /usr/bin/prometheus-alertmanager ]] || packages+=(prometheus-alertmanager)
    [[ -x /usr/bin/promtool ]] || packages+=(prometheus)
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
    if [[ ${#packages[@]} -gt 0 ]]; then
        say "installing ${packages[*]} from Debian (their services are not started)"
        install_without_services "${packages[@]}"
    fi
fi
