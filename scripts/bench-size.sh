#!/usr/bin/env bash
# Bundle size of the release build in dist/: for each page of
# opsdeck_api::pages::PAGES, every file the browser downloads on first load
# (the entry, boot.js, its bundle's wasm and JS, the stylesheet), raw and
# gzip -9, and the total. Prints markdown tables and fails when a page is
# over the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# A bundle's files are <bundle>-<hash>…: +([0-9a-f]) keeps `ops` from matching `ops-runs`.
shopt -s extglob

pages=$(cargo run -q -p opsdeck-api --example pages)
while IFS=$'\t' read -r _path _nav _title _bundle entry; do
    [[ -f "dist/$entry" ]] || { echo "dist/$entry is not built: run make app" >&2; exit 1; }
done <<<"$pages"

budget_kb=400
over=0

# entry html, bundle file prefix, page path
report() {
    local entry=$1 bundle=$2 pages=$3 total_raw=0 total_gz=0
    printf '\n### %s (%s)\n\n| file | raw bytes | gzip bytes |\n|---|---:|---:|\n' "$entry" "$pages"
    for f in "dist/$entry" dist/boot.js dist/"$bundle"-+([0-9a-f])_bg.wasm dist/"$bundle"-+([0-9a-f]).js dist/*.css; do
        [[ -e "$f" ]] || continue
        raw=$(stat -c %s "$f")
        gz=$(gzip -9 -c "$f" | wc -c)
        total_raw=$((total_raw + raw))
        total_gz=$((total_gz + gz))
        printf '| %s | %d | %d |\n' "${f#dist/}" "$raw" "$gz"
    done
    printf '| **total** | **%d** | **%d** |\n' "$total_raw" "$total_gz"
    awk -v gz="$total_gz" -v budget="$budget_kb" -v pages="$pages" \
        'BEGIN { printf "\nInitial download of %s: %.1f KB gzip (budget %d KB).\n", pages, gz / 1024, budget }'
    if (( total_gz > budget_kb * 1024 )); then
        echo "over budget: $pages" >&2
        over=1
    fi
}

while IFS=$'\t' read -r path _nav _title bundle entry; do
    report "$entry" "$bundle" "$path"
done <<<"$pages"
exit $over
