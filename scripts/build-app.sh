#!/usr/bin/env bash
# Build the browser app into dist/ (release, size-optimised) and gzip its
# assets so the server can send them precompressed.
#
# One wasm bundle per page of opsdeck_api::pages::PAGES, so no page downloads
# the others' code. For each page this writes its HTML entry from
# app/entry.html (its title, its bundle's bin) into target/entries/, builds it
# with Trunk into target/dist-<bundle>/ (Trunk replaces its whole dist
# directory on every build and always names the page index.html), and merges
# the result into dist/ under the page's entry name.
#
#   scripts/build-app.sh            everything
#   scripts/build-app.sh --entries  only the HTML entries (for `trunk serve`)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# `&` in a replacement is the matched text when this is on (bash 5.2's default).
shopt -u patsub_replacement 2>/dev/null || true

pages=$(cargo run -q -p opsdeck-api --example pages)
# The template's own "<!-- template: …" note is not for the browser.
template=$(grep -v '^<!-- template:' app/entry.html)
mkdir -p target/entries
while IFS=$'\t' read -r _path _nav title bundle entry; do
    html=${template//'{{title}}'/$title}
    printf '%s\n' "${html//'{{bundle}}'/$bundle}" >"target/entries/$entry"
done <<<"$pages"
[[ "${1:-}" == "--entries" ]] && exit 0

while IFS=$'\t' read -r _path _nav _title bundle entry; do
    trunk build "target/entries/$entry" --release --dist "target/dist-$bundle"
done <<<"$pages"

# Assemble dist/ only once every bundle has built, so a failed build leaves
# the previous one whole.
staged=target/dist.new
rm -rf "$staged"
mkdir "$staged"
while IFS=$'\t' read -r _path _nav _title bundle entry; do
    out="target/dist-$bundle"
    # Shared files (stylesheet, favicon, boot.js) are the same in every build.
    find "$out" -maxdepth 1 -type f ! -name index.html ! -name '*.gz' -exec cp -f {} "$staged/" \;
    cp -f "$out/index.html" "$staged/$entry"
done <<<"$pages"
rm -rf dist
mv "$staged" dist

for f in dist/*.wasm dist/*.js dist/*.css dist/*.svg; do
    [[ -e "$f" ]] || continue
    gzip -9 -k -f "$f"
done
