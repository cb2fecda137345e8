#!/usr/bin/env bash
# Put throughput of a 3-node Kv cluster with metrics off (no MetricsListen) and on (MetricsListen set, every node
# scraped once a second), alternating OFF, ON, OFF, ON so that drift on a shared machine hits both alike.
# Prints one line per run and the ratio of the medians. Knobs: RUN_SECONDS (10), WARMUP_SECONDS (3), CLIENTS (64),
# ROUNDS (2), KV_BASE_PORT (7300), SKIP_BUILD=1. Every process it starts is killed by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_SECONDS=${RUN_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-3}
CLIENTS=${CLIENTS:-64}
ROUNDS=${ROUNDS:-2}
KV_BASE_PORT=${KV_BASE_PORT:-7300}
work=$(mktemp -d "${TMPDIR:-/tmp}/kv-metrics-overhead.XXXXXX")
declare -a started=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build -c Release src/Kv.Server >/dev/null
  dotnet build -c Release bench/Kv.Load >/dev/null
fi
server_dll=src/Kv.Server/bin/Release/net10.0/Kv.Server.dll
load_dll=bench/Kv.Load/bin/Release/net10.0/Kv.Load.dll

run() { # run MODE N: starts a fresh cluster, loads it, stops it; prints "MODE ops_per_s p50 p99"
  local mode=$1 n=$2 peers="" endpoints="" pids=() scraper=""
  for i in 1 2 3; do
    peers+="${peers:+,}$i=http://127.0.0.1:$((KV_BASE_PORT + i))"
    endpoints+="${endpoints:+,}http://127.0.0.1:$((KV_BASE_PORT + i))"
  done
  for i in 1 2 3; do
    local metrics=()
    [ "$mode" = on ] && metrics=(--metrics-listen "http://127.0.0.1:$((KV_BASE_PORT + 10 + i))")
    Logging__LogLevel__Default=Warning dotnet "$server_dll" node --node-id "$i" --listen "http://127.0.0.1:$((KV_BASE_PORT + i))" \
      --peers "$peers" --data-dir "$work/$mode-$n-$i" "${metrics[@]}" >"$work/$mode-$n-$i.log" 2>&1 &
    pids+=($!); started+=($!)
  done
  dotnet "$load_dll" --target kv --endpoints "$endpoints" --op probe --seconds 30 --keys 1 >/dev/null 2>&1
  if [ "$mode" = on ]; then
    ( while true; do for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$((KV_BASE_PORT + 10 + i))/metrics" || true; done; sleep 1; done ) &
    scraper=$!; started+=($!)
  fi
  local out
  out=$(dotnet "$load_dll" --target kv --endpoints "$endpoints" --op put --clients "$CLIENTS" --seconds "$RUN_SECONDS" \
    --warmup-seconds "$WARMUP_SECONDS" --keys 10000 --value-bytes 256 2>/dev/null)
  [ -n "$scraper" ] && { kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; }
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "$mode $out"
}

results=()
for n in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    line=$(run "$mode" "$n")
    echo "$line"
    results+=("$line")
  done
done
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics, re
runs = {"off": [], "on": []}
for line in sys.stdin:
    mode, rest = line.split(" ", 1)
    kv = dict(p.split("=", 1) for p in rest.split() if "=" in p)
    runs[mode].append(float(kv["ops_per_s"]))
off, on = statistics.median(runs["off"]), statistics.median(runs["on"])
print(f"median puts/s: metrics off {off:.0f}, on {on:.0f}; on/off = {on/off:.3f}")
'
