#!/usr/bin/env bash
# YCSB core workloads A, B, C, E, F against a 3-node Kv cluster (three `Kv.Server node` processes on free 127.0.0.1
# ports, fsync on) split into RANGES ranges at evenly spaced record keys: load RECORDS records, then run each workload
# for WARMUP_SECONDS + RUN_SECONDS in a closed loop of CLIENTS clients (bench/Kv.Load --op ycsb). For each run it
# records throughput, p50/p90/p99/p99.9/max per operation kind, the per-second series, and the three servers' CPU
# seconds per 1,000 operations (utime+stime from /proc/PID/stat at the start and end of the measured window).
# Writes bench/results/ycsb.json and bench/results/ycsb.md with the machine and the load average around every run,
# and the charts (bench/Kv.Charts) to bench/results/charts/.
#
#   bash bench/ycsb.sh            # RECORDS=50000, 3 s warmup + 15 s per workload: ~2.5 minutes with the build
#   bash bench/ycsb.sh --quick    # RECORDS=5000, 1 s + 4 s per workload: ~1 minute with the build
#
# Knobs (environment): RECORDS, VALUE_BYTES (100), RANGES (8), CLIENTS (16), RUN_SECONDS, WARMUP_SECONDS,
# WORKLOADS ("a b c e f"), DISTRIBUTION (zipfian|uniform), RATE (unset: closed loop; N: open loop at N operations per
# second with at most CLIENTS in flight, latency from each operation's due time), REPORT (bench/results/ycsb.md), JSON (… .json),
# CHARTS (bench/results/charts; empty: no charts), SKIP_BUILD=1, KEEP_WORK=1, KV_LOG_LEVEL (Warning).
# Every process it starts is killed by PID on exit, however it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
KV_LOG_TAG=ycsb
source bench/lib.sh

# The knobs set from outside, for the report's command line.
env_knobs=""
for knob in RECORDS VALUE_BYTES RANGES CLIENTS RUN_SECONDS WARMUP_SECONDS WORKLOADS DISTRIBUTION RATE; do
  [ -n "${!knob:-}" ] && env_knobs+="$knob=\"${!knob}\" "
done
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  RECORDS=${RECORDS:-5000}; RUN_SECONDS=${RUN_SECONDS:-4}; WARMUP_SECONDS=${WARMUP_SECONDS:-1}
else
  RECORDS=${RECORDS:-50000}; RUN_SECONDS=${RUN_SECONDS:-15}; WARMUP_SECONDS=${WARMUP_SECONDS:-3}
fi
VALUE_BYTES=${VALUE_BYTES:-100}
RANGES=${RANGES:-8}
CLIENTS=${CLIENTS:-16}
WORKLOADS=${WORKLOADS:-a b c e f}
DISTRIBUTION=${DISTRIBUTION:-zipfian}
REPORT=${REPORT:-bench/results/ycsb.md}
JSON=${JSON:-${REPORT%.md}.json}
CHARTS=${CHARTS-bench/results/charts}
export KV_LOG_LEVEL=${KV_LOG_LEVEL-Warning}
command_line="${env_knobs}bash bench/ycsb.sh${*:+ $*}"

script_start=$(date +%s)
loadavg_start=$(kv_loadavg)
kv_trap_cleanup
kv_build src/Kv.Server/Kv.Server.csproj bench/Kv.Load/Kv.Load.csproj ${CHARTS:+bench/Kv.Charts/Kv.Charts.csproj}
kv_start_cluster "$KV_WORK/cluster"
pids_csv=$(IFS=,; echo "${KV_PIDS[*]}")
load() { dotnet "$KV_LOAD_DLL" --target kv --endpoints "$KV_ENDPOINTS" "$@"; }

kv_log "load phase: $RECORDS records of $VALUE_BYTES B into $RANGES ranges"
load_line=$(load --op load --record-count "$RECORDS" --value-bytes "$VALUE_BYTES" --ranges "$RANGES" --clients 64 2>"$KV_WORK/load.err") \
  || { cat "$KV_WORK/load.err" >&2; exit 1; }
kv_log "  $load_line"

declare -a runs=() commands=()
for w in $WORKLOADS; do
  name="ycsb-$w"
  args=(--op ycsb --workload "$w" --distribution "$DISTRIBUTION" --record-count "$RECORDS" --value-bytes "$VALUE_BYTES"
    --clients "$CLIENTS" --duration "$RUN_SECONDS" --warmup "$WARMUP_SECONDS" --server-pids "$pids_csv" ${RATE:+--rate "$RATE"}
    --json "$KV_WORK/$name.json" --markdown "$KV_WORK/$name.md")
  commands+=("dotnet $KV_LOAD_DLL --target kv --endpoints \$ENDPOINTS $(sed "s|$KV_WORK|\$WORK|g" <<<"${args[*]}")")
  before=$(kv_loadavg)
  kv_log "workload $w: $CLIENTS clients, ${WARMUP_SECONDS} s + ${RUN_SECONDS} s"
  line=$(load "${args[@]}" 2>"$KV_WORK/$name.err") || true
  after=$(kv_loadavg)
  grep '^errors:' "$KV_WORK/$name.err" >&2 || true
  echo "  $line" >&2
  [ -f "$KV_WORK/$name.json" ] || { kv_log "workload $w wrote no result"; tail -n 20 "$KV_WORK/$name.err" >&2; exit 1; }
  jq --arg before "$before" --arg after "$after" '. + {loadavg_before: $before, loadavg_after: $after}' "$KV_WORK/$name.json" >"$KV_WORK/$name.full.json"
  runs+=("$KV_WORK/$name.full.json")
done
loadavg_end=$(kv_loadavg)
elapsed=$(( $(date +%s) - script_start ))

mkdir -p "$(dirname "$JSON")"
jq -n --arg generated "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg command "$command_line" --argjson machine "$(kv_machine_json)" \
  --arg loadavg_start "$loadavg_start" --arg loadavg_end "$loadavg_end" --arg load "$load_line" --argjson elapsed "$elapsed" \
  --argjson records "$RECORDS" --argjson value_bytes "$VALUE_BYTES" --argjson ranges "$RANGES" --argjson clients "$CLIENTS" \
  --argjson run_seconds "$RUN_SECONDS" --argjson warmup_seconds "$WARMUP_SECONDS" --arg distribution "$DISTRIBUTION" \
  --arg rate "${RATE:-}" \
  --slurpfile runs <(cat "${runs[@]}") \
  '{generated: $generated, command: $command, machine: ($machine + {loadavg_start: $loadavg_start, loadavg_end: $loadavg_end}),
    settings: {records: $records, value_bytes: $value_bytes, ranges: $ranges, clients: $clients, run_seconds: $run_seconds,
      warmup_seconds: $warmup_seconds, distribution: $distribution, nodes: 3,
      loop: (if $rate == "" then "closed" else "open" end), rate_per_second: (if $rate == "" then null else ($rate | tonumber) end)},
    load_phase: $load, elapsed_s: $elapsed, runs: $runs}' >"$JSON"

ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }
{
  echo "# YCSB on a 3-node Kv cluster, $RANGES ranges"
  echo
  echo "Generated by \`$command_line\` on $(date -u +'%Y-%m-%d %H:%M UTC') (whole script: ${elapsed} s). Raw figures, per-second"
  echo "series included: [\`$(basename "$JSON")\`]($(basename "$JSON"))."
  echo
  echo "## Machine"
  echo
  echo "| | |"
  echo "| --- | --- |"
  kv_machine_rows
  echo "| load average (1, 5, 15 min) | $loadavg_start at the start, $loadavg_end at the end |"
  echo
  echo "The machine is shared: the servers, the load generator and whatever else runs share its $(nproc) cores, so the"
  echo "figures are noisy; the load average before and after each run is in the table."
  echo
  echo "## Setup"
  echo
  echo "Three \`Kv.Server node\` processes on 127.0.0.1 (default settings, every Paxos write synced, log level $KV_LOG_LEVEL), split into"
  echo "$RANGES ranges at evenly spaced record keys. Load phase: $RECORDS records \`k00000000\`… of $VALUE_BYTES B (\`$load_line\`)."
  if [ -n "${RATE:-}" ]; then
    echo "Each workload: an open loop at $RATE operations per second (at most $CLIENTS in flight; latency counted from when each"
    echo "operation was due) through \`Kv.Client\`, ${WARMUP_SECONDS} s warmup, ${RUN_SECONDS} s measured,"
  else
    echo "Each workload: $CLIENTS clients in a closed loop through \`Kv.Client\`, ${WARMUP_SECONDS} s warmup, ${RUN_SECONDS} s measured,"
  fi
  echo "records picked $DISTRIBUTION ($( [ "$DISTRIBUTION" = zipfian ] && echo "θ = 0.99, ranks scrambled by FNV hash so hot records spread over the ranges" || echo "every record equally likely")). Reads are linearizable;"
  echo "E scans 1–100 records from a picked key; F reads and writes back with compare-and-set on the version read (a lost race"
  echo "reads again: \"retries\"). Server CPU: the three nodes' utime+stime over the measured window ÷ operations × 1,000."
  echo
  echo '```sh'
  for c in "${commands[@]}"; do echo "$c"; done
  echo '```'
  echo
  echo "## Results"
  echo
  echo "Latencies in ms."
  echo
  echo "| workload | ops/s | p50 | p90 | p99 | p99.9 | max | errors | retries | server CPU s / 1,000 ops | load gen cores | load avg before → after |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  for f in "${runs[@]}"; do
    jq -r '"| \(.workload | ascii_upcase) | \(.ops_per_second * 10 | round / 10) | \(.p50_us) | \(.p90_us) | \(.p99_us) | \(.p999_us) | \(.max_us) | \(.errors) | \([.variants[]?.retries] | add // 0) | \(.server_cpu_seconds_per1000_ops // "–") | \(.client_cores * 100 | round / 100) | \(.loadavg_before) → \(.loadavg_after) |"' "$f" \
      | awk -F'|' 'BEGIN { OFS = "|" } { for (i = 4; i <= 8; i++) $i = sprintf(" %.2f ", $i / 1000); if ($11 ~ /[0-9]/) $11 = sprintf(" %.3f ", $11); print }'
  done
  echo
  echo "By operation kind:"
  echo
  echo "| workload | kind | ops/s | p50 | p90 | p99 | p99.9 | max | retries |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for f in "${runs[@]}"; do
    jq -r '.workload as $w | .variants[]? | "| \($w | ascii_upcase) | \(.name) | \(.ops_per_second * 10 | round / 10) | \(.p50_us) | \(.p90_us) | \(.p99_us) | \(.p999_us) | \(.max_us) | \(.retries) |"' "$f" \
      | awk -F'|' 'BEGIN { OFS = "|" } { for (i = 5; i <= 9; i++) $i = sprintf(" %.2f ", $i / 1000); print }'
  done
  echo
  errors_total=$(jq -s '[.[].errors] | add' "${runs[@]}")
  if [ "$errors_total" -gt 0 ]; then
    echo "Errors (not in the latency figures):"
    echo
    echo '```'
    for f in "${runs[@]}"; do jq -r '.workload as $w | .error_kinds[] | "\($w): \(.count) × \(.kind): \(.first_message)"' "$f"; done
    echo '```'
    echo
  fi
  if [ -n "$CHARTS" ]; then
    echo "Throughput and p99 per second: ![ycsb throughput](charts/ycsb-throughput.png)"
    echo
    echo "Latency percentiles: ![ycsb latency](charts/ycsb-latency.png)"
    echo
  fi
} >"$REPORT"

if [ -n "$CHARTS" ]; then
  dotnet bench/Kv.Charts/bin/Release/net10.0/Kv.Charts.dll --results "$(dirname "$JSON")" --out "$CHARTS" --only ycsb >&2 \
    || kv_log "charts failed (the results stand)"
fi
kv_log "report: $REPORT, $JSON (${elapsed} s)"
cat "$REPORT"
