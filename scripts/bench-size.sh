#!/usr/bin/env bash
# Bundle size of the release build in dist/: for each HTML entry, every file the
# browser downloads on first load of its pages (the entry, boot.js, its wasm and
# JS, the stylesheet), raw and gzip -9, and the total. Prints markdown tables
# and fails when an entry is over the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f dist/index.html && -f dist/kpi.html && -f dist/vp.html && -f dist/retention.html ]] || { echo "dist/ is not built: run make app" >&2; exit 1; }

budget_kb=400
over=0

# entry html, bundle file prefix, pages
report() {
    local entry=$1 bundle=$2 pages=$3 total_raw=0 total_gz=0
    printf '\n### %s (%s)\n\n| file | raw bytes | gzip bytes |\n|---|---:|---:|\n' "$entry" "$pages"
    for f in "dist/$entry" dist/boot.js dist/"$bundle"-*_bg.wasm dist/"$bundle"-*[0-9a-f].js dist/*.css; do
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

report index.html opsdeck-app "/ops"
report kpi.html kpi "/ops/kpi"
report vp.html vp "/ops/vp"
report retention.html retention "/ops/retention"
exit $over
