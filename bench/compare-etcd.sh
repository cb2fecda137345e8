#!/usr/bin/env bash
# Kv vs etcd on this machine, side by side in one run: a 3-member etcd cluster and a 3-node Kv cluster (three
# separate processes each) on 127.0.0.1, the same closed-loop load (bench/Kv.Load) against each, scenario by
# scenario (etcd first, then Kv), and a markdown report with the targets marked met or NOT met.
#
#   bash bench/compare-etcd.sh
#
# Knobs (environment): RUN_SECONDS (10), WARMUP_SECONDS (3), KEYS (10000), VALUE_BYTES (256), SETTLE_SECONDS (5) and
# IDLE_SECONDS (5): after both clusters take a put, they settle, then their idle CPU is measured over IDLE_SECONDS,
# REPORT (bench/results/kv-vs-etcd.md), KEEP_WORK=1 keeps the temp dir (data, logs, JSON) for a look afterwards,
# SKIP_BUILD=1 reuses the Release build, ETCD_BASE_PORT (23790), KV_BASE_PORT (7200), KV_LOG_LEVEL (unset: the
# node's own logging; e.g. Warning sets Logging__LogLevel__Default for the Kv nodes).
# Every process it starts is killed by PID on exit, whatever the exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
repo=$(pwd)

RUN_SECONDS=${RUN_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-3}
SETTLE_SECONDS=${SETTLE_SECONDS:-5}
IDLE_SECONDS=${IDLE_SECONDS:-5}
KEYS=${KEYS:-10000}
VALUE_BYTES=${VALUE_BYTES:-256}
REPORT=${REPORT:-bench/results/kv-vs-etcd.md}
ETCD_BASE_PORT=${ETCD_BASE_PORT:-23790}
KV_BASE_PORT=${KV_BASE_PORT:-7200}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

script_start=$(date +%s)
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/kv-vs-etcd.XXXXXX")
declare -a started=()        # every PID this script starts, killed in cleanup
declare -a etcd_pids=() kv_pids=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # SIGKILL (bench/lib.sh): the data directories are thrown away, so a clean shutdown would only cost time.
  kv_kill_pids "${started[@]}"
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- (a) etcd installed?
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  log "installing etcd (etcd-server, etcd-client)"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y etcd-server etcd-client \
    || { $sudo_cmd apt-get update && $sudo_cmd apt-get install -y etcd-server etcd-client; }
fi

# ---------------------------------------------------------------- (b) build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building Release (Kv.Server, Kv.Load)"
  dotnet build -c Release src/Kv.Server/Kv.Server.csproj -v q -nologo >"$work/build-server.log" 2>&1 \
    || { cat "$work/build-server.log" >&2; exit 1; }
  dotnet build -c Release bench/Kv.Load/Kv.Load.csproj -v q -nologo >"$work/build-load.log" 2>&1 \
    || { cat "$work/build-load.log" >&2; exit 1; }
fi
server_dll=src/Kv.Server/bin/Release/net10.0/Kv.Server.dll
load_dll=bench/Kv.Load/bin/Release/net10.0/Kv.Load.dll

for p in $((ETCD_BASE_PORT + 1)) $((ETCD_BASE_PORT + 2)) $((ETCD_BASE_PORT + 3)) \
         $((ETCD_BASE_PORT + 11)) $((ETCD_BASE_PORT + 12)) $((ETCD_BASE_PORT + 13)) \
         $((KV_BASE_PORT + 1)) $((KV_BASE_PORT + 2)) $((KV_BASE_PORT + 3)); do
  if port_busy "$p"; then log "port $p is in use; set ETCD_BASE_PORT / KV_BASE_PORT"; exit 1; fi
done

# ---------------------------------------------------------------- (c) etcd cluster
etcd_cluster="" etcd_endpoints=""
for i in 1 2 3; do
  etcd_cluster+="${etcd_cluster:+,}e$i=http://127.0.0.1:$((ETCD_BASE_PORT + 10 + i))"
  etcd_endpoints+="${etcd_endpoints:+,}http://127.0.0.1:$((ETCD_BASE_PORT + i))"
done
log "starting etcd: $etcd_endpoints"
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$work/etcd-$i" \
    --listen-client-urls "http://127.0.0.1:$((ETCD_BASE_PORT + i))" \
    --advertise-client-urls "http://127.0.0.1:$((ETCD_BASE_PORT + i))" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_BASE_PORT + 10 + i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_BASE_PORT + 10 + i))" \
    --initial-cluster "$etcd_cluster" --initial-cluster-state new --initial-cluster-token kv-vs-etcd \
    >"$work/etcd-$i.log" 2>&1 &
  started+=("$!"); etcd_pids+=("$!")
done

# ---------------------------------------------------------------- (d) Kv cluster, three processes
kv_peers="" kv_endpoints=""
for i in 1 2 3; do
  kv_peers+="${kv_peers:+,}$i=http://127.0.0.1:$((KV_BASE_PORT + i))"
  kv_endpoints+="${kv_endpoints:+,}http://127.0.0.1:$((KV_BASE_PORT + i))"
done
log "starting Kv: $kv_endpoints"
for i in 1 2 3; do
  ${KV_LOG_LEVEL:+env Logging__LogLevel__Default=$KV_LOG_LEVEL} dotnet "$server_dll" node --node-id "$i" --listen "http://127.0.0.1:$((KV_BASE_PORT + i))" \
    --peers "$kv_peers" --data-dir "$work/kv-$i" >"$work/kv-$i.log" 2>&1 &
  started+=("$!"); kv_pids+=("$!")
done

load() { dotnet "$load_dll" "$@"; }
load --target etcd --endpoints "$etcd_endpoints" --op probe --seconds 30 --keys 1 \
  || { log "etcd did not accept a put"; tail -n 20 "$work"/etcd-*.log >&2; exit 1; }
load --target kv --endpoints "$kv_endpoints" --op probe --seconds 30 --keys 1 \
  || { log "Kv did not accept a put"; tail -n 20 "$work"/kv-*.log >&2; exit 1; }

# CPU seconds (user + system) used so far by the given PIDs together.
cpu_seconds() {
  local ticks=0 t
  for pid in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    ticks=$((ticks + t))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
# CPU seconds the whole machine has been busy (every core, every process: ours and anyone else's).
machine_busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu /{ printf "%.3f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}
cores() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { printf "%.2f", (b - a) / t }'; }

# A freshly started Kv node burns CPU for its first ~15 s (measured: the three nodes took 0.3–0.6 cores with no
# requests at all, 0.12 after 20 s), which would land on whichever run came first. Let both clusters settle, then
# measure what each costs idle.
sleep "$SETTLE_SECONDS"
idle_etcd_before=$(cpu_seconds "${etcd_pids[@]}"); idle_kv_before=$(cpu_seconds "${kv_pids[@]}")
sleep "$IDLE_SECONDS"
idle_etcd=$(cores "$idle_etcd_before" "$(cpu_seconds "${etcd_pids[@]}")" "$IDLE_SECONDS")
idle_kv=$(cores "$idle_kv_before" "$(cpu_seconds "${kv_pids[@]}")" "$IDLE_SECONDS")
log "idle: etcd cluster $idle_etcd cores, Kv cluster $idle_kv cores"

# Samples VmRSS of the PIDs every 200 ms, keeping each one's maximum (kB) in FILE, until killed.
sample_rss() {
  local file=$1; shift
  local -a max=()
  while true; do
    local i=0 line=""
    for pid in "$@"; do
      local rss
      rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${max[$i]:-0}" -lt "${rss:-0}" ] && max[$i]=$rss
      line+="${max[$i]:-0} "
      i=$((i + 1))
    done
    echo "$line" >"$file"
    sleep 0.2
  done
}
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---------------------------------------------------------------- (e) scenarios
declare -A result=()   # result[system,scenario,field]
declare -a commands=()
# put: writes; get: linearizable gets; sget: serializable gets (any member answers from its own state); mixed: half
# linearizable gets, half puts, drawn per operation. Every get scenario preloads the keys first, untimed.
scenarios=("put 1" "put 16" "put 64" "put 256" "get 64" "sget 64" "mixed 64")
for scenario in "${scenarios[@]}"; do
  read -r op clients <<<"$scenario"
  for system in etcd kv; do
    if [ "$system" = etcd ]; then endpoints=$etcd_endpoints; pids=("${etcd_pids[@]}"); other=("${kv_pids[@]}")
    else endpoints=$kv_endpoints; pids=("${kv_pids[@]}"); other=("${etcd_pids[@]}"); fi
    name="$system-$op-$clients"
    args=(--target "$system" --endpoints "$endpoints" --op "$op" --clients "$clients" --seconds "$RUN_SECONDS"
      --warmup-seconds "$WARMUP_SECONDS" --keys "$KEYS" --value-bytes "$VALUE_BYTES" --json "$work/$name.json")
    commands+=("dotnet $load_dll ${args[*]}")
    sampler=""
    if [ "$op" = put ] && [ "$clients" = 64 ]; then
      sample_rss "$work/rss-$system.txt" "${pids[@]}" &
      sampler=$!; started+=("$sampler")
    fi
    cpu_before=$(cpu_seconds "${pids[@]}"); idle_before=$(cpu_seconds "${other[@]}")
    machine_before=$(machine_busy_seconds); t0=$(date +%s.%N)
    log "$name"
    line=$(load "${args[@]}" 2>"$work/$name.err") || true
    t1=$(date +%s.%N); cpu_after=$(cpu_seconds "${pids[@]}"); idle_after=$(cpu_seconds "${other[@]}")
    machine_after=$(machine_busy_seconds)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    grep -v '^\[' "$work/$name.err" >&2 || true      # preload and error lines; progress lines stay in the file
    if [ -n "$sampler" ]; then
      kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
      result[$system,rss]=$(cat "$work/rss-$system.txt" 2>/dev/null || echo "")
      hwm=""; for pid in "${pids[@]}"; do hwm+="$(hwm_kb "$pid") "; done
      result[$system,hwm64]=$hwm
    fi
    echo "  $line" >&2
    result[$system,$scenario,cores]=$(cores "$cpu_before" "$cpu_after" "$wall")
    result[$system,$scenario,idle_cores]=$(cores "$idle_before" "$idle_after" "$wall")
    result[$system,$scenario,machine_cores]=$(cores "$machine_before" "$machine_after" "$wall")
    for field in ops_per_s p50_us p90_us p99_us p999_us max_us errors client_cores; do
      result[$system,$scenario,$field]=$(tr ' ' '\n' <<<"$line" | sed -n "s/^$field=//p")
    done
  done
done
for system in etcd kv; do
  if [ "$system" = etcd ]; then pids=("${etcd_pids[@]}"); else pids=("${kv_pids[@]}"); fi
  hwm=""; for pid in "${pids[@]}"; do hwm+="$(hwm_kb "$pid") "; done
  result[$system,hwm_end]=$hwm
done
elapsed=$(( $(date +%s) - script_start ))
kv_log_lines="" kv_log_mb="" kv_request_lines=""
for i in 1 2 3; do
  kv_log_lines+="${kv_log_lines:+, }$(wc -l <"$work/kv-$i.log")"
  kv_log_mb+="${kv_log_mb:+, }$(awk -v b="$(stat -c %s "$work/kv-$i.log")" 'BEGIN { printf "%.1f", b / 1048576 }')"
  kv_request_lines+="${kv_request_lines:+, }$(grep -c 'Hosting.Diagnostics' "$work/kv-$i.log" || true)"
done

# ---------------------------------------------------------------- (f) report
get() { echo "${result[$1]:-}"; }
ms() { if [ -n "$1" ]; then awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; else echo "–"; fi; }
ratio() { if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; else echo "–"; fi; }
# le A B: A ≤ B (numbers); false when either is missing.
le() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
mb_list() { local out=""; for kb in $1; do out+="${out:+, }$((kb / 1024))"; done; echo "$out"; }
max_kb() { local m=0; for kb in $1; do [ "$kb" -gt "$m" ] && m=$kb; done; echo "$m"; }
mark() { if "$@"; then echo "met"; else echo "**NOT met**"; fi; }

cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
etcd_version=$(etcd --version 2>/dev/null | awk '/etcd Version/{print $3}')
mkdir -p "$(dirname "$REPORT")"
{
  echo "# Kv vs etcd: puts, linearizable and serializable gets, 50/50 mixed, 3 nodes on one machine"
  echo
  echo "Generated by \`bench/compare-etcd.sh\` on $(date -u +'%Y-%m-%d %H:%M UTC') (whole script: ${elapsed} s)."
  echo
  echo "## Machine"
  echo
  echo "| | |"
  echo "| --- | --- |"
  echo "| cores (nproc) | $(nproc) |"
  echo "| CPU | $cpu_model |"
  echo "| memory | $(free -g | awk '/^Mem:/{print $2}') GiB |"
  echo "| kernel | $(uname -r) |"
  echo "| .NET SDK | $(dotnet --version) |"
  echo "| etcd | $etcd_version (Debian \`etcd-server\`, default settings) |"
  echo "| load average (1, 5, 15 min) | $loadavg_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end |"
  echo
  echo "## Command"
  echo
  echo '```sh'
  echo "bash bench/compare-etcd.sh   # RUN_SECONDS=$RUN_SECONDS WARMUP_SECONDS=$WARMUP_SECONDS KEYS=$KEYS VALUE_BYTES=$VALUE_BYTES SETTLE_SECONDS=$SETTLE_SECONDS IDLE_SECONDS=$IDLE_SECONDS"
  echo '```'
  echo
  echo "Both clusters run at once, each as three processes on 127.0.0.1 with its own data directory under a temp dir"
  echo "(etcd: \`--data-dir\`, WAL fsync as etcd does by default; Kv: \`Kv.Server.dll node --node-id I --listen … --peers … --data-dir …\`,"
  echo "every Paxos write synced). Each scenario runs against etcd, then against Kv; the load generator is the same"
  echo "program for both (\`bench/Kv.Load\`: N workers in a closed loop, uniform random keys \`k00000000\`…, $VALUE_BYTES-byte values,"
  echo "latency in an HdrHistogram, ${WARMUP_SECONDS} s warmup, ${RUN_SECONDS} s measured). Kv is driven through \`Kv.Client\`"
  echo "(puts and linearizable gets go to the range's leader, serializable gets to its replicas in turn), etcd through"
  echo "\`dotnet-etcd\` (round-robin over the members; followers forward puts and serve linearizable reads by read index),"
  echo "both with \`EnableMultipleHttp2Connections\`. \`get\`: linearizable on both (etcd \`serializable=false\`). \`sget\`:"
  echo "serializable on both (etcd \`serializable=true\`; Kv \`READ_CONSISTENCY_SERIALIZABLE\`): the member that receives the read"
  echo "answers from its own applied state, possibly stale. \`mixed\`: each operation is a linearizable get or a put with even"
  echo "odds, uniform keys (the figures are of both kinds together). All keys are written before a get, sget or mixed run, untimed."
  echo "Load generator, servers and the idle other cluster share the $(nproc) cores; the CPU columns below show who used them."
  echo "Idle, after $((SETTLE_SECONDS + IDLE_SECONDS)) s of settling, the etcd cluster used $idle_etcd cores and the Kv cluster $idle_kv (over $IDLE_SECONDS s)."
  echo
  echo "The runs, in order:"
  echo
  echo '```sh'
  for c in "${commands[@]}"; do echo "${c//$work/\$WORK}"; done
  echo '```'
  echo
  echo "## Results"
  echo
  echo "Latencies in ms. CPU columns are CPU time ÷ the run's wall time (warmup and process start included), in cores"
  echo "of the $(nproc): the measured cluster's three servers, the other (idle) cluster, the load generator, and the whole"
  echo "machine; \"unrelated\" is the machine minus those three, i.e. other work running on the machine at the same time."
  echo
  echo "| scenario | system | ops/s | p50 | p90 | p99 | p99.9 | max | errors | servers | idle cluster | load gen | machine | unrelated |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for scenario in "${scenarios[@]}"; do
    read -r op clients <<<"$scenario"
    label="$op, $clients client$([ "$clients" = 1 ] || echo s)"
    for system in etcd kv; do
      k="$system,$scenario"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$([ $system = kv ] && echo Kv || echo etcd)" \
        "$(get "$k,ops_per_s")" "$(ms "$(get "$k,p50_us")")" "$(ms "$(get "$k,p90_us")")" "$(ms "$(get "$k,p99_us")")" \
        "$(ms "$(get "$k,p999_us")")" "$(ms "$(get "$k,max_us")")" "$(get "$k,errors")" "$(get "$k,cores")" \
        "$(get "$k,idle_cores")" "$(get "$k,client_cores")" "$(get "$k,machine_cores")" \
        "$(awk -v m="$(get "$k,machine_cores")" -v a="$(get "$k,cores")" -v b="$(get "$k,idle_cores")" -v c="$(get "$k,client_cores")" \
          'BEGIN { u = m - a - b - c; printf "%.2f", u < 0 ? 0 : u }')"
    done
  done
  echo
  echo "Ratios Kv ÷ etcd:"
  echo
  echo "| scenario | throughput | p50 | p99 |"
  echo "| --- | ---: | ---: | ---: |"
  for scenario in "${scenarios[@]}"; do
    printf '| %s | %s | %s | %s |\n' "$scenario" \
      "$(ratio "$(get "kv,$scenario,ops_per_s")" "$(get "etcd,$scenario,ops_per_s")")" \
      "$(ratio "$(get "kv,$scenario,p50_us")" "$(get "etcd,$scenario,p50_us")")" \
      "$(ratio "$(get "kv,$scenario,p99_us")" "$(get "etcd,$scenario,p99_us")")"
  done
  echo
  echo "Memory per node (MB; nodes 1, 2, 3):"
  echo
  echo "| system | peak VmRSS sampled every 200 ms during put, 64 clients | VmHWM at the end of that run | VmHWM at the end of all runs |"
  echo "| --- | --- | --- | --- |"
  for system in etcd kv; do
    echo "| $([ $system = kv ] && echo Kv || echo etcd) | $(mb_list "$(get "$system,rss")") | $(mb_list "$(get "$system,hwm64")") | $(mb_list "$(get "$system,hwm_end")") |"
  done
  echo
  echo "Kv node logs (stdout and stderr of nodes 1, 2, 3${KV_LOG_LEVEL:+, run with Logging__LogLevel__Default=$KV_LOG_LEVEL}): $kv_log_lines lines"
  echo "($kv_log_mb MB), of which $kv_request_lines are ASP.NET Core per-request lines (\`Microsoft.AspNetCore.Hosting.Diagnostics\`)."
  echo
  echo "## Targets"
  echo
  kv_t() { get "kv,$1,ops_per_s"; }; etcd_t() { get "etcd,$1,ops_per_s"; }
  kv_p() { get "kv,$1,$2"; }; etcd_p() { get "etcd,$1,$2"; }
  times() { [ -n "$2" ] && awk -v f="$1" -v v="$2" 'BEGIN { printf "%.3f", f * v }'; }
  twice() { times 2 "$1"; }
  thrice() { times 3 "$1"; }
  seventy() { times 0.7 "$1"; }
  rss_max=$(max_kb "$(get kv,rss)")
  rss_ok() { [ "$rss_max" -gt 0 ] && [ "$rss_max" -lt $((300 * 1024)) ]; }
  echo "| target | measured | |"
  echo "| --- | --- | --- |"
  for c in 64 256; do
    echo "| puts at $c clients: throughput ≥ 2× etcd | $(ratio "$(kv_t "put $c")" "$(etcd_t "put $c")")× | $(mark le "$(twice "$(etcd_t "put $c")")" "$(kv_t "put $c")") |"
    echo "| puts at $c clients: p99 ≤ etcd's | $(ms "$(kv_p "put $c" p99_us)") ms vs $(ms "$(etcd_p "put $c" p99_us)") ms | $(mark le "$(kv_p "put $c" p99_us)" "$(etcd_p "put $c" p99_us)") |"
  done
  echo "| puts at 1 client: p50 ≤ 0.7× etcd's | $(ratio "$(kv_p "put 1" p50_us)" "$(etcd_p "put 1" p50_us)")× ($(ms "$(kv_p "put 1" p50_us)") ms vs $(ms "$(etcd_p "put 1" p50_us)") ms) | $(mark le "$(kv_p "put 1" p50_us)" "$(seventy "$(etcd_p "put 1" p50_us)")") |"
  echo "| linearizable gets at 64 clients: throughput ≥ 3× etcd | $(ratio "$(kv_t "get 64")" "$(etcd_t "get 64")")× | $(mark le "$(thrice "$(etcd_t "get 64")")" "$(kv_t "get 64")") |"
  for s in "sget 64" "mixed 64"; do
    what=$([ "$s" = "sget 64" ] && echo "serializable gets" || echo "50/50 mixed gets and puts")
    echo "| $what at 64 clients: throughput ≥ 2× etcd | $(ratio "$(kv_t "$s")" "$(etcd_t "$s")")× | $(mark le "$(twice "$(etcd_t "$s")")" "$(kv_t "$s")") |"
    echo "| $what at 64 clients: p99 ≤ etcd's | $(ms "$(kv_p "$s" p99_us)") ms vs $(ms "$(etcd_p "$s" p99_us)") ms | $(mark le "$(kv_p "$s" p99_us)" "$(etcd_p "$s" p99_us)") |"
  done
  echo "| RSS per Kv node < 300 MB (peak sampled during put, 64 clients) | $((rss_max / 1024)) MB | $(mark rss_ok) |"
  echo
  errors_total=0
  for scenario in "${scenarios[@]}"; do
    for system in etcd kv; do errors_total=$((errors_total + ${result[$system,$scenario,errors]:-0})); done
  done
  if [ "$errors_total" -gt 0 ]; then
    echo "Errors were counted in some runs (not in the throughput or latency figures); kinds and first messages:"
    echo
    echo '```'
    for scenario in "${scenarios[@]}"; do
      read -r op clients <<<"$scenario"
      for system in etcd kv; do grep -h '^errors:' "$work/$system-$op-$clients.err" 2>/dev/null | sed "s/^/$system $op $clients: /" || true; done
    done
    echo '```'
    echo
  fi
} >"$REPORT"
log "report: $REPORT (${elapsed} s)"
cat "$REPORT"
