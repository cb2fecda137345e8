#!/usr/bin/env bash
# What the client SDK costs over the raw generated gRPC call: starts a 3-node Kv cluster (three `Kv.Server.dll node`
# processes on free 127.0.0.1 ports, temp data directories), then runs bench/Kv.ClientBench in its own process:
# it writes one 256-byte value, finds the leader of its range, and compares KvClient.GetAsync with
# Kv.Proto.V1.Kv.KvClient.GetAsync on that leader: p50/p90/p99 with 1 and 16 callers (interleaved in blocks) and
# bytes allocated per Get. Writes bench/results/client-overhead.md and .json with the targets marked met or NOT met.
#
#   bash bench/client-overhead.sh [benchmark flags, e.g. --blocks 10 --alloc-gets 5000 --profile-gets 0]
#
# Knobs (environment): REPORT (bench/results/client-overhead.md), JSON (the same with .json), SKIP_BUILD=1 reuses
# the Release build, KV_LOG_LEVEL (Warning: the nodes' Logging__LogLevel__Default, so that the per-request
# ASP.NET Core lines do not load the machine; empty: the node's own logging), KEEP_WORK=1 keeps the temp dir.
# A hand-written section at the end of the report, from the line `<!-- analysis -->` on, is kept across runs.
# Every process the script starts is killed by PID on exit, however it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

REPORT=${REPORT:-bench/results/client-overhead.md}
JSON=${JSON:-${REPORT%.md}.json}
KV_LOG_LEVEL=${KV_LOG_LEVEL-Warning}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
command_line="bash bench/client-overhead.sh${*:+ $*}"
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/kv-client-overhead.XXXXXX")
declare -a started=()   # every PID this script starts

cleanup() {
  local status=$? pid
  trap - EXIT INT TERM
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${started[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for i in 1 2 3; do
      [ -f "$work/kv-$i.log" ] && { echo "---- node $i log (last 20 lines) ----" >&2; tail -n 20 "$work/kv-$i.log" >&2; }
    done
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "[client-overhead $(date +%T)] $*" >&2; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building Release (Kv.Server, Kv.ClientBench)"
  dotnet build -c Release -v q -nologo src/Kv.Server/Kv.Server.csproj >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
  dotnet build -c Release -v q -nologo bench/Kv.ClientBench/Kv.ClientBench.csproj >>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
fi
server_dll=src/Kv.Server/bin/Release/net10.0/Kv.Server.dll
bench_dll=bench/Kv.ClientBench/bin/Release/net10.0/Kv.ClientBench.dll

# ---- the cluster: three node processes on free ports ----------------------------------------------------------
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Hltn "sport = :$p" | grep -q . && [[ " ${ports[*]:-} " != *" $p "* ]]; then echo "$p"; return; fi
  done
}
ports=()
for i in 1 2 3; do ports+=("$(free_port)"); done
url() { echo "http://127.0.0.1:${ports[$(($1 - 1))]}"; }
peers="1=$(url 1),2=$(url 2),3=$(url 3)"
endpoints="$(url 1),$(url 2),$(url 3)"
node_pids=()
for i in 1 2 3; do
  ${KV_LOG_LEVEL:+env Logging__LogLevel__Default=$KV_LOG_LEVEL} dotnet "$server_dll" node --node-id "$i" --listen "$(url "$i")" \
    --peers "$peers" --data-dir "$work/kv-$i" >"$work/kv-$i.log" 2>&1 &
  started+=("$!"); node_pids+=("$!")
done
log "started nodes (pids ${node_pids[*]}) on $endpoints"
node_settings="default settings${KV_LOG_LEVEL:+, Logging__LogLevel__Default=$KV_LOG_LEVEL}"

# ---- the benchmark --------------------------------------------------------------------------------------------
mkdir -p "$(dirname "$REPORT")"
analysis=""
if [ -f "$REPORT" ] && grep -q '^<!-- analysis -->' "$REPORT"; then
  analysis=$(sed -n '/^<!-- analysis -->/,$p' "$REPORT")
fi
dotnet "$bench_dll" --endpoints "$endpoints" --node-pids "$(IFS=,; echo "${node_pids[*]}")" \
  --loadavg-start "$loadavg_start" --commit "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (src modified)')" \
  --sdk-version "$(dotnet --version)" --node-settings "$node_settings" --command "$command_line" \
  --json "$JSON" --report "$REPORT" "$@" &
bench_pid=$!
started+=("$bench_pid")
wait "$bench_pid"
started=("${node_pids[@]}")   # the benchmark has exited and been reaped
if [ -n "$analysis" ]; then printf '\n%s\n' "$analysis" >>"$REPORT"; fi
log "report: $REPORT, figures: $JSON"
