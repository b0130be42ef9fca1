#!/usr/bin/env bash
# The proxy path against nginx: one sim, and in front of it nginx
# `proxy_pass`, opsdeck with shared reads off (every GET a miss) and opsdeck
# with them on (a hit), all on loopback in one run. wrk measures throughput
# at 16 connections and latency at 1 for GET /api/admin/status and the
# heavier 90-day KPI rollups; the sim is also called directly as the floor.
#
#   scripts/bench-proxy.sh        (make bench-proxy builds the release binary first)
#
# Installs Debian's nginx-light and wrk when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
if ! command -v wrk >/dev/null || [[ ! -x /usr/sbin/nginx ]]; then
    echo "==> installing wrk and nginx-light from Debian"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light
fi

BIN=${OPSDECK_BIN:-target/release/opsdeck}
[[ -x $BIN ]] || { echo "bench-proxy: $BIN is missing; run make bench-proxy" >&2; exit 1; }
DURATION=${DURATION:-10s}
SIM_TOKEN=bench-proxy-platform-token-01
CONSOLE_TOKEN=bench-proxy-console-token-01
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

wait_for() { for _ in $(seq 100); do curl -sS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

sim_port=$(free_port)
SIM_BIND=127.0.0.1:$sim_port SIM_ADMIN_API_TOKEN=$SIM_TOKEN UA_OPS_TOKEN=bench-proxy-ops-token \
    SIM_DB_PATH="$work/sim.db" RUST_LOG=warn "$BIN" sim >"$work/sim.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$sim_port/api/admin/status"
sleep 1

console() { # port ttl_ms
    OPSDECK_BIND=127.0.0.1:$1 OPSDECK_UPSTREAM=http://127.0.0.1:$sim_port UPSTREAM_ADMIN_TOKEN=$SIM_TOKEN \
        UA_OPS_TOKEN=bench-proxy-ops-token ENVIRONMENT=DEVELOPMENT ADMIN_API_TOKEN=$CONSOLE_TOKEN \
        OPSDECK_DATA_DIR="$work/console-$1" SHARED_READ_TTL_MS=$2 METRICS_LISTEN=off \
        VP_SCHEDULED_SNAPSHOTS=false ALERT_SOURCES=prod_checks MAX_CONNECTIONS=4096 \
        "$BIN" serve >"$work/console-$1.log" 2>&1 &
    pids+=($!)
    wait_for "http://127.0.0.1:$1/healthz"
}
miss_port=$(free_port); console "$miss_port" 0
hit_port=$(free_port); console "$hit_port" 2900

nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    upstream sim { server 127.0.0.1:$sim_port; keepalive 32; }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://sim;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer $SIM_TOKEN";
            proxy_set_header X-Actor bench;
        }
    }
}
EOF
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work/nginx"
wait_for "http://127.0.0.1:$nginx_port/api/admin/status"

# target port token
target() {
    case $1 in
        sim) echo "$sim_port $SIM_TOKEN" ;;
        nginx) echo "$nginx_port -" ;;
        miss) echo "$miss_port $CONSOLE_TOKEN" ;;
        hit) echo "$hit_port $CONSOLE_TOKEN" ;;
    esac
}

bench() { # name path connections
    read -r port token <<<"$(target "$1")"
    local auth=()
    [[ $token != - ]] && auth=(-H "Authorization: Bearer $token" -H "X-Actor: bench")
    wrk -t1 -c"$3" -d"$DURATION" --latency "${auth[@]}" "http://127.0.0.1:$port$2" >"$work/wrk.out"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$2" "$1" "$3" "$rps" "$p50" "$p99"
}

echo "| path | through | connections | req/s | p50 | p99 |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for path in /api/admin/status "/api/admin/kpi/rollups?days=90"; do
    for c in 16 1; do
        for t in sim nginx miss hit; do bench "$t" "$path" "$c"; done
    done
done
