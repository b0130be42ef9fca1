#!/usr/bin/env bash
# Bundle size of the release build in dist/: each file the browser downloads on
# first load, raw and gzip -9, and the total. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f dist/index.html ]] || { echo "dist/ is not built: run make app" >&2; exit 1; }

budget_kb=400
total_raw=0
total_gz=0
printf '| file | raw bytes | gzip bytes |\n|---|---:|---:|\n'
for f in dist/index.html dist/*.wasm dist/*.js dist/*.css; do
    [[ -e "$f" ]] || continue
    raw=$(stat -c %s "$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
    printf '| %s | %d | %d |\n' "${f#dist/}" "$raw" "$gz"
done
printf '| **total** | **%d** | **%d** |\n' "$total_raw" "$total_gz"
awk -v gz="$total_gz" -v budget="$budget_kb" 'BEGIN { printf "\nInitial download: %.1f KB gzip (budget %d KB).\n", gz / 1024, budget }'
if (( total_gz > budget_kb * 1024 )); then
    echo "over budget" >&2
    exit 1
fi
