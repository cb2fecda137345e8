#!/usr/bin/env bash
# What idle ranges cost: starts a 3-node cluster (three `Kv.Server node` processes on free 127.0.0.1 ports, temp
# data directories, default timing unless --node-flags says otherwise), measures each node's CPU time and RSS with
# no client load on the initial single user range, then splits the key space into --ranges user ranges
# (Admin/SplitRange, through bench/Kv.IdleRanges), checks that every node hosts every range and each range has a
# leader, and measures again. Writes the figures and the machine to --out (bench/results/idle-ranges.md).
# CPU comes from /proc/PID/stat (utime+stime, in clock ticks) over the window, so it includes everything the
# process does: replica loop, gRPC, RocksDB threads, GC and JIT.
#
#   bench/idle-ranges.sh [--ranges 1000] [--settle-s 10] [--measure-s 30] [--workers 3]
#                        [--node-flags "--tick-interval-ms 10 ..."] [--node-env "NAME=VALUE ..."]
#                        [--profile-s 0] [--out FILE] [--no-build]
#
# --node-flags and --node-env go to all three nodes (for experiments: other timing, runtime settings); the
# report records them.
# --profile-s N: after the measurement, samples all three nodes with `perf record` for N more seconds and writes
# the top threads, libraries and symbols to FILE with -profile.txt instead of .md. The nodes then run with
# DOTNET_PerfMapEnabled=1 and DOTNET_EnableWriteXorExecute=0, so that perf can name JIT-compiled frames (with W^X
# on, they live in an anonymous memfd perf cannot map); the report says so. The profile is taken after the
# measured window, never during it.
# Every process the script starts is killed by PID when it exits, however it exits.
set -euo pipefail

ranges=1000
settle_s=10
measure_s=30
# One worker per node: concurrent splits through ONE node currently fail now and then (see bench/README.md).
workers=3
node_flags=""
node_env=""
profile_s=0
out="bench/results/idle-ranges.md"
build=1
command_line="bench/idle-ranges.sh${*:+ $*}"

while [ $# -gt 0 ]; do
  case "$1" in
    --ranges) ranges="$2"; shift 2 ;;
    --settle-s) settle_s="$2"; shift 2 ;;
    --measure-s) measure_s="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --node-flags) node_flags="$2"; shift 2 ;;
    --node-env) node_env="$2"; shift 2 ;;
    --profile-s) profile_s="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$ranges" -lt 2 ]; then echo "--ranges must be at least 2" >&2; exit 2; fi

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
server_dll="src/Kv.Server/bin/Release/net10.0/Kv.Server.dll"
tool_dll="bench/Kv.IdleRanges/bin/Release/net10.0/Kv.IdleRanges.dll"
work="$(mktemp -d "${TMPDIR:-/tmp}/kv-idle-ranges.XXXXXX")"
pids=()
perf_pid=""

# SIGKILL: the data directories are thrown away, so a clean shutdown would only cost time.
stop_nodes() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "/tmp/perf-$pid.map" "/tmp/perfinfo-$pid.map"
  done
}
cleanup() {
  local status=$?
  if [ -n "$perf_pid" ]; then kill -KILL "$perf_pid" 2>/dev/null || true; fi
  stop_nodes
  if [ "$status" -ne 0 ] && [ -d "$work" ]; then
    for i in 1 2 3; do
      [ -f "$work/node-$i.log" ] && { echo "---- node $i log (last 20 lines) ----" >&2; tail -n 20 "$work/node-$i.log" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[idle-ranges $(date +%T)] $*" >&2; }

if [ "$build" -eq 1 ]; then
  log "building Release"
  dotnet build -c Release -v q -nologo src/Kv.Server/Kv.Server.csproj >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
  dotnet build -c Release -v q -nologo bench/Kv.IdleRanges/Kv.IdleRanges.csproj >>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
fi

# ---- the cluster ----------------------------------------------------------------------------------------------

source bench/lib.sh   # kv_free_port: below the ephemeral range
free_port() {
  local p
  while :; do
    p=$(kv_free_port)
    [[ " ${ports[*]:-} " != *" $p "* ]] && { echo "$p"; return; }
  done
}
ports=()
for i in 1 2 3; do ports+=("$(free_port)"); done
url() { echo "http://127.0.0.1:${ports[$(($1 - 1))]}"; }
peers="1=$(url 1),2=$(url 2),3=$(url 3)"
endpoints="$(url 1),$(url 2),$(url 3)"
read -r -a extra_flags <<<"$node_flags"
read -r -a extra_env <<<"$node_env"
[ "$profile_s" -gt 0 ] && extra_env+=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
for i in 1 2 3; do
  env "${extra_env[@]}" dotnet "$server_dll" node --node-id "$i" --listen "$(url "$i")" --peers "$peers" \
    --data-dir "$work/node-$i" "${extra_flags[@]}" >"$work/node-$i.log" 2>&1 &
  pids+=("$!")
  disown "$!" # no "Killed" job notice at exit; cleanup polls for the exit instead of waiting
done
log "started nodes (pids ${pids[*]}) on $endpoints"

tool() { local cmd="$1"; shift; dotnet "$tool_dll" "$cmd" --endpoints "$endpoints" "$@"; }
all_alive() {
  local i
  for i in 1 2 3; do
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { log "node $i (pid ${pids[$((i - 1))]}) has exited"; return 1; }
  done
}
# key=value lines from the tool land in $work/facts, read back with fact KEY.
fact() { awk -F= -v k="$1" '$1 == k { v = $2 } END { print v }' "$work/facts"; }
touch "$work/facts"

tool ready --timeout-s 60 >>"$work/facts"
tool verify --ranges 1 --timeout-s 30 >"$work/verify-1.txt"
cat "$work/verify-1.txt" | sed 's/^/baseline_/' >>"$work/facts"

# ---- measuring ------------------------------------------------------------------------------------------------

clk_tck="$(getconf CLK_TCK)"
# utime + stime of a process or thread, in clock ticks (fields 14 and 15; the name in parentheses may hold spaces).
cpu_ticks() { sed 's/^.*) //' "$1" | awk '{ print $12 + $13 }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# tid, CPU ticks, context switches (voluntary + involuntary), thread name; tab-separated, one line per live thread
# (a thread that ends while it is read is left out). Per thread because a process's own status counts the switches
# of its main thread only. Shell builtins only: a node has ~100 threads, and three processes started per thread
# took seconds per snapshot on a loaded machine.
thread_ticks() {
  local t stat comm key val n
  local -a f
  for t in /proc/"$1"/task/*; do
    { read -r stat <"$t/stat" && read -r comm <"$t/comm"; } 2>/dev/null || continue
    # Fields after the name in parentheses (which may hold spaces): utime and stime are the 12th and 13th.
    read -r -a f <<<"${stat##*) }"
    n=0
    while read -r key val _; do
      case $key in voluntary_ctxt_switches:|nonvoluntary_ctxt_switches:) n=$((n + val)) ;; esac
    done 2>/dev/null <"$t/status" || true
    printf '%s\t%s\t%s\t%s\n' "${t##*/}" "$((f[11] + f[12]))" "$n" "$comm"
  done
}
# Context switches per second of one node over a window, from two thread snapshots: threads alive at the end only
# (a thread that ended inside the window takes its switches with it), new ones counted from zero.
ctx_per_s() {
  awk -F'\t' -v secs="$3" 'NR == FNR { before[$1] = $3; next } { n += $3 - (($1 in before) ? before[$1] : 0) }
    END { printf "%.0f", n / secs }' "$1" "$2"
}
# Bytes and TCP segments, both directions, on the connections to the three nodes' ports (counted at the server
# end only, so each connection once): the peer streams, since no client calls during a window. Loopback's own
# counters would also count whatever else runs on the machine.
cluster_tcp() {
  ss -Htin state established "( sport = :${ports[0]} or sport = :${ports[1]} or sport = :${ports[2]} )" |
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, ":")
             if (kv[1] == "bytes_sent" || kv[1] == "bytes_received") b += kv[2]
             if (kv[1] == "segs_out" || kv[1] == "segs_in") g += kv[2] } }
         END { print b + 0, g + 0 }'
}
# Busy clock ticks of the whole machine (all cores), to show how quiet it was. Only a rough figure: the kernel
# samples each core at its clock tick, so short bursts are missed, while a process's utime+stime adds up its
# exact run time.
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
now_s() { date +%s.%N; }
# The first N lines, reading all input: `head` would end the pipe early, and pipefail would count the writer's
# SIGPIPE as a failure.
first() { awk -v n="$1" 'NR <= n'; }

# measure PHASE: settle, then one window; writes PHASE_* facts and $work/PHASE-threads-N.tsv.
measure() {
  local phase="$1" i pid
  log "$phase: settling ${settle_s} s"
  sleep "$settle_s"
  all_alive
  log "$phase: measuring ${measure_s} s (no client load)"
  local t0 t1 net0 net1 busy0 busy1 load0
  declare -A c0
  for i in 1 2 3; do
    pid="${pids[$((i - 1))]}"
    thread_ticks "$pid" >"$work/$phase-threads0-$i.tsv"
    c0[$i]="$(cpu_ticks "/proc/$pid/stat")"
  done
  net0="$(cluster_tcp)"
  busy0="$(machine_busy)"
  load0="$(cut -d' ' -f1 /proc/loadavg)"
  t0="$(now_s)"
  sleep "$measure_s"
  t1="$(now_s)"
  busy1="$(machine_busy)"
  net1="$(cluster_tcp)"
  all_alive
  local total=0
  for i in 1 2 3; do
    pid="${pids[$((i - 1))]}"
    local c1 pct
    c1="$(cpu_ticks "/proc/$pid/stat")"
    thread_ticks "$pid" >"$work/$phase-threads1-$i.tsv"
    pct="$(awk -v d="$((c1 - c0[$i]))" -v hz="$clk_tck" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", d / hz / (t1 - t0) * 100 }')"
    total="$(awk -v a="$total" -v b="$pct" 'BEGIN { printf "%.2f", a + b }')"
    {
      echo "${phase}_cpu_node$i=$pct"
      echo "${phase}_ticks_node$i=$((c1 - c0[$i]))"
      echo "${phase}_rss_mib_node$i=$(awk -v k="$(rss_kb "$pid")" 'BEGIN { printf "%.0f", k / 1024 }')"
      echo "${phase}_ctx_per_s_node$i=$(ctx_per_s "$work/$phase-threads0-$i.tsv" "$work/$phase-threads1-$i.tsv" "$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { print t1 - t0 }')")"
      echo "${phase}_threads_node$i=$(wc -l <"$work/$phase-threads1-$i.tsv")"
    } >>"$work/facts"
  done
  {
    echo "${phase}_cpu_total=$total"
    echo "${phase}_window_s=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f", t1 - t0 }')"
    awk -v a="$net0" -v b="$net1" -v t0="$t0" -v t1="$t1" -v p="$phase" 'BEGIN {
      split(a, x, " "); split(b, y, " "); d = t1 - t0
      printf "%s_tcp_kib_per_s=%.0f\n%s_tcp_segs_per_s=%.0f\n", p, (y[1] - x[1]) / 1024 / d, p, (y[2] - x[2]) / d }'
    echo "${phase}_machine_cpu=$(awk -v d="$((busy1 - busy0))" -v hz="$clk_tck" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", d / hz / (t1 - t0) * 100 }')"
    echo "${phase}_load_start=$load0"
    echo "${phase}_load_end=$(cut -d' ' -f1 /proc/loadavg)"
  } >>"$work/facts"
  log "$phase: CPU $(fact "${phase}_cpu_node1")% + $(fact "${phase}_cpu_node2")% + $(fact "${phase}_cpu_node3")% = ${total}% of one core"
}

# Per-thread-name CPU of one node over a phase's window, as "name<TAB>% of one core", busiest first. Threads
# that ended inside the window are missing (their time still counts in the process total).
thread_table() {
  local phase="$1" i="$2"
  awk -F'\t' -v hz="$clk_tck" -v secs="$(fact "${phase}_window_s")" '
    NR == FNR { before[$1] = $2; next }
    { d = $2 - (($1 in before) ? before[$1] : 0); ticks[$4] += d; count[$4]++ }
    END { for (n in ticks) if (ticks[n] > 0) printf "%s\t%d\t%.2f\n", n, count[n], ticks[n] / hz / secs * 100 }
  ' "$work/$phase-threads0-$i.tsv" "$work/$phase-threads1-$i.tsv" | sort -t$'\t' -k3,3 -gr
}

measure baseline

# ---- splitting ------------------------------------------------------------------------------------------------

log "splitting into $ranges user ranges ($((ranges - 1)) Admin/SplitRange calls, $workers workers)"
tool split --count "$((ranges - 1))" --workers "$workers" >>"$work/facts"
log "verifying ranges, replicas and leaders"
# Generous: on the loaded VM the last of 1,000 new groups can take a minute to elect (a timeout here failed a run).
tool verify --ranges "$ranges" --timeout-s 180 >>"$work/facts"
split_log_lines_before="$(cat "$work"/node-*.log | wc -l)"

measure ranges

log "re-verifying after the window"
if tool verify --ranges "$ranges" --timeout-s 30 >"$work/verify-after.txt"; then
  sed 's/^/after_/' "$work/verify-after.txt" >>"$work/facts"
  still_ok="yes"
else
  still_ok="no"
fi
log_lines_during="$(( $(cat "$work"/node-*.log | wc -l) - split_log_lines_before ))"

# ---- optional profile (outside the measured window) -----------------------------------------------------------

profile_file=""
if [ "$profile_s" -gt 0 ]; then
  profile_file="${out%.md}-profile.txt"
  log "profiling all nodes with perf for ${profile_s} s"
  perf record -F 499 -g -o "$work/perf.data" -p "$(IFS=,; echo "${pids[*]}")" -- sleep "$profile_s" >"$work/perf.log" 2>&1 &
  perf_pid=$!
  wait "$perf_pid" || true
  perf_pid=""
  {
    echo "# perf profile of the 3 nodes idling with $ranges user ranges, ${profile_s} s, 499 Hz, all threads"
    echo "# written by: $command_line   on $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "# nodes ran with: ${extra_env[*]}"
    echo "$(perf report -i "$work/perf.data" --stdio -g none --sort comm 2>/dev/null | awk '/^# Samples:/ && !n { print; n = 1 }') (all 3 nodes)"
    report() { perf report -i "$work/perf.data" --stdio -g none "$@" 2>/dev/null | grep -v '^#' | sed '/^$/d'; }
    echo
    echo "## by activity: each sample goes to the first bucket whose frame is on its stack (else its thread's name)"
    echo "## (% of all samples; x $(fact ranges_cpu_total)% measured = approximate % of one core)"
    perf script -i "$work/perf.data" -F comm,tid,ip,sym 2>/dev/null | awk -v total_pct="$(fact ranges_cpu_total)" '
      function flush() { if (n_lines == 0) return; b = "other (" comm ")"
        if (stack ~ /LowLevelLifoSemaphore/) b = "thread pool: idle workers spinning/waiting for work (LowLevelLifoSemaphore.Wait)"
        else if (stack ~ /ReplicaHost/) b = "replica host loop: ticks, Step, TakeReady, persist, hand messages to the transport (ReplicaHost)"
        else if (stack ~ /PeerConnection|Grpc\.Net\.Client|System\.Net\.Http/) b = "peer transport, sending side (PeerConnection, gRPC client, HTTP/2 client)"
        else if (stack ~ /PeerService|Kestrel|AspNetCore|Grpc\.AspNetCore/) b = "peer transport, receiving side (PeerService, Kestrel HTTP/2, gRPC server)"
        else if (comm ~ /Server GC|BGC/) b = "garbage collection (Server GC threads)"
        else if (comm ~ /Timer/) b = "timers (.NET Timer thread: the 10 ms tick, keep-alives)"
        else if (comm ~ /Sockets/) b = "socket event loop (.NET Sockets: epoll)"
        count[b]++; all++; n_lines = 0; stack = "" }
      /^\t/ { stack = stack " " $0; next }
      /^$/ { flush(); next }
      { flush(); comm = $0; sub(/ +[0-9]+ *$/, "", comm); sub(/^ +/, "", comm); n_lines = 1 }
      END { flush(); for (b in count) printf "%6.1f%%  ~%5.1f%% of one core  %s\n", count[b] / all * 100, count[b] / all * total_pct, b }' | sort -gr
    echo
    echo "## by thread name (comm), self time"
    report --no-children --sort comm --percent-limit 0.5
    echo
    echo "## by shared object, self time"
    report --no-children --sort dso --percent-limit 0.5
    echo
    echo "## by symbol, self time (top 60)"
    report --no-children --sort dso,sym --percent-limit 0.3 | first 60
    echo
    echo "## by symbol, including callees (top 80)"
    report --children --sort sym --percent-limit 1.5 | first 80
  } >"$profile_file"
  log "profile written to $profile_file"
fi

# ---- the Paxos core alone, for comparison (the cluster is stopped first, so that it does not compete) ----------

stop_nodes
log "timing the Paxos core alone: $ranges idle groups x 3 replicas in one thread"
tool core --ranges "$ranges" --ticks 3000 >>"$work/facts"

# ---- the report -----------------------------------------------------------------------------------------------

target_pct=5
total_ranges="$(fact ranges_cpu_total)"
met="$(awk -v t="$total_ranges" -v m="$target_pct" 'BEGIN { print (t < m) ? "**met**" : "**missed**" }')"
per_range_us="$(awk -v b="$(fact baseline_cpu_total)" -v r="$total_ranges" -v n="$ranges" \
  'BEGIN { printf "%.1f", (r - b) / 100 * 1e6 / (n - 1) }')"
mkdir -p "$(dirname "$out")"
{
  echo "# Idle ranges: what $ranges idle ranges cost on a 3-node cluster"
  echo
  echo "Target (server issue): \"1,000 idle ranges on the 3 nodes cost less than 5% of one core in total\"."
  echo "Result with $ranges user ranges: **${total_ranges}% of one core** in total over the three nodes, so the target is $met."
  echo
  echo "Written by \`bench/idle-ranges.sh\`; rerun it to replace this file. Taken $(date -u +%Y-%m-%d) at commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- src || echo ' (src/ modified)')."
  echo
  echo "## Machine"
  echo
  echo "| | |"
  echo "| --- | --- |"
  echo "| cores (nproc) | $(nproc) |"
  echo "| CPU | $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) |"
  echo "| kernel | $(uname -sr) |"
  echo "| dotnet --version | $(dotnet --version) |"
  echo "| memory | $(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) |"
  echo
  echo "All three nodes run on this one machine, so they share its $(nproc) cores (and the loopback interface)."
  echo
  echo "## Command"
  echo
  echo '```sh'
  echo "$command_line"
  echo '```'
  echo
  echo "Each node: \`dotnet $server_dll node --node-id I --listen http://127.0.0.1:PORT --peers 1=…,2=…,3=… --data-dir TMP/node-I${node_flags:+ $node_flags}\`"
  echo "(${node_flags:-default timing: 10 ms tick, heartbeat every 10 ticks, election timeout 100 ticks}; Server GC, as Kv.Server's runtimeconfig sets${node_env:+; environment: $node_env})."
  echo "Each phase settles ${settle_s} s, then measures ${measure_s} s with no client load. CPU = Δ(utime+stime) from"
  echo "\`/proc/PID/stat\` ÷ CLK_TCK ($clk_tck) ÷ wall time, as % of one core; RSS = VmRSS at the end of the window."
  echo
  echo "## Figures"
  echo
  echo "| | node 1 | node 2 | node 3 | total |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  echo "| CPU, baseline: 1 user range + meta (% of one core) | $(fact baseline_cpu_node1) | $(fact baseline_cpu_node2) | $(fact baseline_cpu_node3) | $(fact baseline_cpu_total) |"
  echo "| CPU, $ranges user ranges + meta (% of one core) | $(fact ranges_cpu_node1) | $(fact ranges_cpu_node2) | $(fact ranges_cpu_node3) | **$total_ranges** |"
  echo "| RSS, baseline (MiB) | $(fact baseline_rss_mib_node1) | $(fact baseline_rss_mib_node2) | $(fact baseline_rss_mib_node3) | $(( $(fact baseline_rss_mib_node1) + $(fact baseline_rss_mib_node2) + $(fact baseline_rss_mib_node3) )) |"
  echo "| RSS, $ranges ranges (MiB) | $(fact ranges_rss_mib_node1) | $(fact ranges_rss_mib_node2) | $(fact ranges_rss_mib_node3) | $(( $(fact ranges_rss_mib_node1) + $(fact ranges_rss_mib_node2) + $(fact ranges_rss_mib_node3) )) |"
  echo "| ranges led (of $ranges) | $(fact leaders_node1) | $(fact leaders_node2) | $(fact leaders_node3) | $ranges |"
  echo "| context switches/s, baseline | $(fact baseline_ctx_per_s_node1) | $(fact baseline_ctx_per_s_node2) | $(fact baseline_ctx_per_s_node3) | |"
  echo "| context switches/s, $ranges ranges | $(fact ranges_ctx_per_s_node1) | $(fact ranges_ctx_per_s_node2) | $(fact ranges_ctx_per_s_node3) | |"
  echo
  echo "- Marginal cost: ($total_ranges − $(fact baseline_cpu_total))% over $((ranges - 1)) added ranges ≈ **${per_range_us} µs of CPU per idle range per second** (all three replicas together)."
  echo "- Windows: baseline $(fact baseline_window_s) s, ranges $(fact ranges_window_s) s. The meta range was led by node $(fact meta_leader)."
  echo "- Peer traffic (TCP connections to the nodes' ports, both directions, from "'`ss -ti`'"): baseline $(fact baseline_tcp_segs_per_s) segments/s, $(fact baseline_tcp_kib_per_s) KiB/s; with $ranges ranges $(fact ranges_tcp_segs_per_s) segments/s, $(fact ranges_tcp_kib_per_s) KiB/s."
  echo "- How quiet the machine was (the nodes share it with whatever else runs): all processes together used about $(fact baseline_machine_cpu)% (baseline window) and $(fact ranges_machine_cpu)% ($ranges-range window) of one core, of $(( $(nproc) * 100 ))% available; load average $(fact baseline_load_start)→$(fact baseline_load_end) and $(fact ranges_load_start)→$(fact ranges_load_end). Rough: \`/proc/stat\` samples each core at the clock tick and misses short bursts, so it can read below the nodes' own figures, which come from the scheduler's exact run time."
  echo "- Splitting: $(fact splits) splits in $(fact split_s) s ($(fact split_retries) retried calls); afterwards every node hosted every range and each range had exactly one leader that the other replicas knew."
  echo "- Re-checked after the window: $still_ok (every range still has one leader; leaders after: $(fact after_leaders_node1) / $(fact after_leaders_node2) / $(fact after_leaders_node3))."
  echo "- Node log lines written during settle + measurement: $log_lines_during."
  echo "- The Paxos core alone ("'`Kv.IdleRanges core`'": $ranges groups × 3 replicas in one thread with the default timing, in-memory delivery, no disk, sockets or host loop): $(fact core_ns_per_replica_tick) ns per replica per tick (Tick $(fact core_ns_tick), TakeReady $(fact core_ns_take_ready), delivering heartbeats and acks $(fact core_ns_deliver)), $(fact core_messages_per_tick) messages per tick, $(fact core_bytes_per_replica_tick) B allocated per replica per tick. At 100 ticks/s that is **$(fact core_pct_at_100_ticks)% of one core** for the three nodes: the rest of the measured cost is the node around the core."
  echo
  echo "## Where the CPU goes, by thread (the $ranges-range window)"
  echo
  echo "Per thread name (Linux \`comm\`, truncated to 15 characters), % of one core; threads that ended inside the"
  echo "window are missing, so the rows may add up to less than the node's total."
  echo
  for i in 1 2 3; do
    echo "Node $i ($(fact "ranges_cpu_node$i")% total, $(fact "ranges_threads_node$i") threads):"
    echo
    echo "| thread | threads | CPU % |"
    echo "| --- | ---: | ---: |"
    thread_table ranges "$i" | first 8 | awk -F'\t' '{ printf "| `%s` | %s | %s |\n", $1, $2, $3 }'
    echo
  done
  if [ -n "$profile_file" ]; then
    echo "A perf profile taken right after the window (${profile_s} s): [\`$(basename "$profile_file")\`]($(basename "$profile_file"))."
    echo
  fi
} >"$out"
log "wrote $out: baseline $(fact baseline_cpu_total)%, $ranges ranges ${total_ranges}% of one core (target <${target_pct}%: ${met//\*/})"
