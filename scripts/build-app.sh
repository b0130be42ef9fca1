#!/usr/bin/env bash
# Build the browser app into dist/ (release, size-optimised) and gzip its
# assets so the server can send them precompressed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
trunk build --release
for f in dist/*.wasm dist/*.js dist/*.css dist/*.svg; do
    [[ -e "$f" ]] || continue
    gzip -9 -k -f "$f"
done
