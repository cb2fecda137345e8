#!/usr/bin/env bash
# The whole benchmark suite in sequence, timed: micro-benchmarks (BenchmarkDotNet quick job), YCSB (ycsb.sh), Kv vs
# etcd (compare-etcd.sh), Paxos commit vs 2PC with the coordinator kill (commit-protocols.sh), client SDK overhead
# (client-overhead.sh) and idle ranges (idle-ranges.sh); then the charts. Builds everything once up front (Release),
# then every script runs with SKIP_BUILD=1 / --no-build.
#
#   bash bench/run-all.sh [--quick] [--out DIR] [--no-build]
#
# --quick: a smoke test of the suite: every step runs and writes every report and chart, but with fewer scenarios,
#          1–2 s runs and small data sets, so its figures mean nothing. Target: 3 minutes on the 2-core VM for the
#          run itself (the build, when there is one, is timed and reported apart: `--quick --no-build` after a build).
# (full):  every script with its own defaults, except the micro-benchmarks, which always use the quick job.
#          Target: 15 minutes for the run (the build apart, as above).
# --out DIR: where every report goes (default: bench/results/quick with --quick, otherwise bench/results, which
#          overwrites the committed results). The step timings go to DIR/run-all.md.
# --no-build: use the Release build as it is (the timings then leave the build out).
set -euo pipefail
cd "$(dirname "$0")/.."
KV_LOG_TAG=run-all
source bench/lib.sh

quick=0 out="" build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --no-build) build=0; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -z "$out" ] && { [ "$quick" = 1 ] && out=bench/results/quick || out=bench/results; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
suite_start=$(date +%s)
loadavg_start=$(kv_loadavg)
kv_trap_cleanup

declare -a steps=() seconds=() statuses=() loads=()
step() {   # step NAME COMMAND...: runs it, times it, keeps going if it fails
  local name=$1; shift
  local t0 status=0 before
  t0=$(date +%s); before=$(kv_loadavg)
  kv_log "== $name"
  "$@" >"$KV_WORK/$name.out" 2>"$KV_WORK/$name.err" || status=$?
  steps+=("$name"); seconds+=("$(( $(date +%s) - t0 ))"); statuses+=("$status"); loads+=("$before → $(kv_loadavg)")
  # The step's own last lines, without the node log lines its cleanup prints (they would hide the reason).
  if [ "$status" -ne 0 ]; then
    kv_log "   $name FAILED (exit $status):"
    grep -v -E '^(info|warn|dbug|trce): |^[[:space:]]+(at |---)|^[[:space:]]*$' "$KV_WORK/$name.err" | tail -n 25 >&2
  fi
  kv_log "   $name: ${seconds[-1]} s"
}

build_all() {
  local p
  for p in src/Kv.Server/Kv.Server.csproj bench/Kv.Load/Kv.Load.csproj bench/Kv.IdleRanges/Kv.IdleRanges.csproj \
    bench/Kv.ClientBench/Kv.ClientBench.csproj bench/Kv.Benchmarks/Kv.Benchmarks.csproj bench/Kv.Charts/Kv.Charts.csproj; do
    dotnet build -c Release -v q -nologo "$p" || return 1
  done
}
micro() {
  local filter=('*')
  # Quick suite: one method of three classes (7 cases), enough to show the harness and its reports work.
  [ "$quick" = 1 ] && filter=('*PaxosGroupBenchmark.*' '*PaxosMessageCodecBenchmark.EncodeAccept' '*KeyEncodingBenchmark.Decode')
  local dll
  dll="$(pwd)/bench/Kv.Benchmarks/bin/Release/net10.0/Kv.Benchmarks.dll"
  (cd "$KV_WORK" && dotnet "$dll" --quick --filter "${filter[@]}") || return 1
  mkdir -p "$out/micro"
  cp "$KV_WORK"/BenchmarkDotNet.Artifacts/results/*-report-github.md "$out/micro/"
}
export SKIP_BUILD=1
[ "$build" = 1 ] && step build build_all
step micro micro
if [ "$quick" = 1 ]; then
  step ycsb env REPORT="$out/ycsb.md" CHARTS="$out/charts" RECORDS=2000 RUN_SECONDS=1.5 WARMUP_SECONDS=0.5 bash bench/ycsb.sh --quick
  step compare-etcd env REPORT="$out/kv-vs-etcd.md" RUN_SECONDS=1.5 WARMUP_SECONDS=0.5 KEYS=2000 SETTLE_SECONDS=1 IDLE_SECONDS=1 \
    bash bench/compare-etcd.sh
  # One cluster for all three parts (KILL_CLUSTERS=reuse); the kill 2 s after the warmup, the restart 2 s later.
  # (WARMUP_SECONDS and KILL_RUN_SECONDS are whole seconds: the script subtracts them in shell arithmetic.)
  step commit-protocols env REPORT="$out/commit-protocols.md" RAW="$out/commit-protocols" CLIENTS_LIST=16 RPT_LIST=2 RANGES=4 \
    RUN_SECONDS=1.5 WARMUP_SECONDS=1 COMPARE_SECONDS=1.5 ACCOUNTS=1000 KILL_RUN_SECONDS=6 KILL_AT_S=3 RESTART_AT_S=5 \
    COST_SECONDS=1.5 COST_IDLE_SECONDS=1 KILL_DRAIN_SECONDS=1 KILL_CLUSTERS=reuse bash bench/commit-protocols.sh
  step client-overhead env REPORT="$out/client-overhead.md" bash bench/client-overhead.sh --warmup-gets 300 --blocks 3 \
    --block-gets 100 --concurrent-blocks 2 --alloc-gets 1000 --alloc-rounds 1 --diagnostic-rounds 0 --profile-gets 0
  step idle-ranges bash bench/idle-ranges.sh --no-build --ranges 50 --settle-s 1 --measure-s 2 --out "$out/idle-ranges.md"
else
  step ycsb env REPORT="$out/ycsb.md" CHARTS="$out/charts" bash bench/ycsb.sh
  step compare-etcd env REPORT="$out/kv-vs-etcd.md" bash bench/compare-etcd.sh
  step commit-protocols env REPORT="$out/commit-protocols.md" RAW="$out/commit-protocols" bash bench/commit-protocols.sh
  step client-overhead env REPORT="$out/client-overhead.md" bash bench/client-overhead.sh
  step idle-ranges bash bench/idle-ranges.sh --no-build --out "$out/idle-ranges.md"
fi
step charts dotnet bench/Kv.Charts/bin/Release/net10.0/Kv.Charts.dll --results "$out" --out "$out/charts"
total=$(( $(date +%s) - suite_start ))
target=$([ "$quick" = 1 ] && echo 180 || echo 900)
build_s=0
[ "${steps[0]}" = build ] && build_s=${seconds[0]}
run_s=$((total - build_s))

{
  echo "# bench/run-all.sh$([ "$quick" = 1 ] && echo " --quick")"
  echo
  echo "Run on $(date -u +'%Y-%m-%d %H:%M UTC') at commit \`$(git rev-parse --short HEAD)\`: **${run_s} s** for the run, the build apart"
  echo "(target $((target / 60)) minutes for the run: $([ "$run_s" -le "$target" ] && echo met || echo "**NOT met**")); $(if [ "$build" = 1 ]; then
    echo "the build took $build_s s more (${total} s in all)."; else echo "no build (\`--no-build\`: the binaries were built before)."; fi)"
  echo
  echo "| | |"
  echo "| --- | --- |"
  kv_machine_rows
  echo "| load average (1, 5, 15 min) | $loadavg_start at the start, $(kv_loadavg) at the end |"
  echo
  echo "| step | seconds | exit | load average before → after |"
  echo "| --- | ---: | ---: | --- |"
  for i in "${!steps[@]}"; do echo "| ${steps[$i]} | ${seconds[$i]} | ${statuses[$i]} | ${loads[$i]} |"; done
} >"$out/run-all.md"
cat "$out/run-all.md"
failed=0
for s in "${statuses[@]}"; do [ "$s" -ne 0 ] && failed=1; done
exit "$failed"
