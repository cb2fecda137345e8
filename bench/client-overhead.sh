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
# Every process the script starts is killed by PID on exit, however it exits (bench/lib.sh; the nodes take free ports
# below the kernel's ephemeral range).
set -euo pipefail
cd "$(dirname "$0")/.."
KV_LOG_TAG=client-overhead
source bench/lib.sh

REPORT=${REPORT:-bench/results/client-overhead.md}
JSON=${JSON:-${REPORT%.md}.json}
KV_LOG_LEVEL=${KV_LOG_LEVEL-Warning}
command_line="bash bench/client-overhead.sh${*:+ $*}"
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
kv_trap_cleanup
kv_build src/Kv.Server/Kv.Server.csproj bench/Kv.Load/Kv.Load.csproj bench/Kv.ClientBench/Kv.ClientBench.csproj
bench_dll=bench/Kv.ClientBench/bin/Release/net10.0/Kv.ClientBench.dll

# ---- the cluster: three node processes on free ports (bench/lib.sh) -----------------------------------------------
kv_start_cluster "$KV_WORK/cluster"
node_pids=("${KV_PIDS[@]}")
endpoints=$KV_ENDPOINTS
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
KV_STARTED+=("$bench_pid")
wait "$bench_pid"
KV_STARTED=("${node_pids[@]}")   # the benchmark has exited and been reaped
if [ -n "$analysis" ]; then printf '\n%s\n' "$analysis" >>"$REPORT"; fi
kv_log "report: $REPORT, figures: $JSON"
