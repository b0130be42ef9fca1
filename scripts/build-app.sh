#!/usr/bin/env bash
# Build the browser app into dist/ (release, size-optimised) and gzip its
# assets so the server can send them precompressed.
#
# One wasm bundle per group of pages, so no page downloads the others' code:
#   index.html  /ops       (bin opsdeck-app)
#   kpi.html    /ops/kpi   (bin kpi)
#   vp.html     /ops/vp    (bin vp)
#   retention.html /ops/retention (bin retention)
# Trunk replaces its whole dist directory on every build and always names the
# page index.html, so each extra entry is built into its own directory and
# merged into dist/ under its own name.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
trunk build index.html --release
for entry in kpi vp retention; do
    trunk build "$entry.html" --release --dist "target/dist-$entry"
    cp -f "target/dist-$entry/index.html" "dist/$entry.html"
    cp -f "target/dist-$entry/$entry"-*.wasm "target/dist-$entry/$entry"-*.js dist/
done
for f in dist/*.wasm dist/*.js dist/*.css dist/*.svg; do
    [[ -e "$f" ]] || continue
    gzip -9 -k -f "$f"
done
