#!/usr/bin/env bash
# Paxos commit vs two-phase commit (2PC) on this machine: the transfer workload of bench/Kv.Load over 3-node Kv
# clusters (three processes on 127.0.0.1, fsync on, split into RANGES ranges at evenly spaced account keys), and a
# markdown report with the targets marked met or NOT met.
#
#   bash bench/commit-protocols.sh
#
# One cluster serves (c), then (a) (and (b) too with KILL_CLUSTERS=reuse); every cluster is split into RANGES ranges
# and loaded with ACCOUNTS accounts once, when it starts.
# (c) Per-commit costs, first, on the fresh cluster, whose nodes serve /metrics (ports KV_BASE_PORT+11..+13): every
#     node scraped around an idle window (COST_IDLE_SECONDS) and around 1-client runs (COST_SECONDS) of puts,
#     Paxos-commit and 2PC transfers; `Kv.Load costs` gives Paxos messages, fsyncs and proposals per commit. COSTS=0
#     skips it; COSTS_ONLY=1 runs it alone and writes its report section to COSTS_REPORT ($RAW/costs.md) instead of REPORT.
# (a) The same cluster: for clients in CLIENTS_LIST × ranges per transaction in RPT_LIST × both protocols, a closed-loop
#     run (WARMUP_SECONDS + RUN_SECONDS); single-range puts at 1 and 16 clients in the same cluster, each just before
#     that client count's transfers, as the baseline; and at 1 and 16 clients a --op compare run (COMPARE_SECONDS):
#     puts, Paxos-commit and 2PC transfers (2 ranges) mixed at random in one run, through one client, so that the
#     three see the same coordinator and the same moment of this shared machine (the targets are judged on it).
# (b) For each protocol, a fresh cluster (KILL_CLUSTERS=fresh, the default; =reuse: the cluster of (a), once every
#     node hosts every range and each range has a leader again): KILL_CLIENTS clients, 2 ranges per transaction,
#     KILL_RUN_SECONDS in all, sampled every 200 ms (--timeline). At KILL_AT_S the node the load sends its commits to
#     (the coordinator: the timeline's last row names it) gets SIGKILL; at RESTART_AT_S it is started again on its
#     data directory.
#
# Knobs (environment): RUN_SECONDS (8), WARMUP_SECONDS (2), COMPARE_SECONDS (12), ACCOUNTS (10000), RANGES (8), CLIENTS_LIST ("1 16 64"),
# RPT_LIST ("1 2 4"), PROTOCOLS ("paxos two-phase"), KILL_CLIENTS (16), KILL_RUN_SECONDS (25), KILL_AT_S (8),
# RESTART_AT_S (18), KILL_DRAIN_SECONDS (3: sampling after the load stops), KILL_CLUSTERS (fresh), COST_SECONDS (8), COST_IDLE_SECONDS (5), REPORT (bench/results/commit-protocols.md), RAW (bench/results/commit-protocols: the JSON and
# CSV of every run), KEEP_WORK=1 keeps the temp dir (data, node logs), SKIP_BUILD=1 reuses the Release build,
# KV_BASE_PORT (7400: nodes listen on +1..+3), KV_LOG_LEVEL (e.g. Warning; unset: the node's own logging, which the
# report greps for the sweeper's recoveries). Every process it starts is killed by PID on exit, whatever the exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

RUN_SECONDS=${RUN_SECONDS:-8}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
COMPARE_SECONDS=${COMPARE_SECONDS:-12}
ACCOUNTS=${ACCOUNTS:-10000}
RANGES=${RANGES:-8}
CLIENTS_LIST=${CLIENTS_LIST:-1 16 64}
RPT_LIST=${RPT_LIST:-1 2 4}
PROTOCOLS=${PROTOCOLS:-paxos two-phase}
KILL_CLIENTS=${KILL_CLIENTS:-16}
KILL_RUN_SECONDS=${KILL_RUN_SECONDS:-25}
KILL_AT_S=${KILL_AT_S:-8}
RESTART_AT_S=${RESTART_AT_S:-18}
REPORT=${REPORT:-bench/results/commit-protocols.md}
RAW=${RAW:-bench/results/commit-protocols}
KV_BASE_PORT=${KV_BASE_PORT:-7400}
COST_SECONDS=${COST_SECONDS:-8}
COST_IDLE_SECONDS=${COST_IDLE_SECONDS:-5}
COSTS_REPORT=${COSTS_REPORT:-$RAW/costs.md}
KILL_CLUSTERS=${KILL_CLUSTERS:-fresh}
KILL_DRAIN_SECONDS=${KILL_DRAIN_SECONDS:-3}
case "$KILL_CLUSTERS" in fresh|reuse) ;; *) echo "KILL_CLUSTERS must be fresh or reuse, not '$KILL_CLUSTERS'" >&2; exit 2 ;; esac
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

script_start=$(date +%s)
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/commit-protocols.XXXXXX")
declare -A running=()        # PID -> what it is: every process this script started and has not stopped yet
declare -a node_pid=()       # node_pid[i]: node i of the current cluster
with_metrics=""              # non-empty: nodes started from now on serve /metrics on KV_BASE_PORT+10+i (part c)
cluster=""                   # the current cluster's name (its data and logs are under $work/$cluster)

# TERM, up to 5 s to stop cleanly, then KILL (bench/lib.sh); and forget them.
stop_pids() {
  local pid
  kv_stop_pids "$@"
  for pid in "$@"; do unset "running[$pid]"; done
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ "${#running[@]}" -gt 0 ] && stop_pids "${!running[@]}"
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building Release (Kv.Server, Kv.Load)"
  dotnet build -c Release src/Kv.Server/Kv.Server.csproj -v q -nologo >"$work/build-server.log" 2>&1 \
    || { cat "$work/build-server.log" >&2; exit 1; }
  dotnet build -c Release bench/Kv.Load/Kv.Load.csproj -v q -nologo >"$work/build-load.log" 2>&1 \
    || { cat "$work/build-load.log" >&2; exit 1; }
  if [ "$KILL_CLUSTERS" = reuse ]; then
    dotnet build -c Release bench/Kv.IdleRanges/Kv.IdleRanges.csproj -v q -nologo >"$work/build-idle.log" 2>&1 \
      || { cat "$work/build-idle.log" >&2; exit 1; }
  fi
fi
server_dll=src/Kv.Server/bin/Release/net10.0/Kv.Server.dll
load_dll=bench/Kv.Load/bin/Release/net10.0/Kv.Load.dll
check_dll=bench/Kv.IdleRanges/bin/Release/net10.0/Kv.IdleRanges.dll
load() { dotnet "$load_dll" "$@"; }

for port in $((KV_BASE_PORT + 1)) $((KV_BASE_PORT + 2)) $((KV_BASE_PORT + 3)) $((KV_BASE_PORT + 11)) $((KV_BASE_PORT + 12)) $((KV_BASE_PORT + 13)); do
  if port_busy "$port"; then log "port $port is in use; set KV_BASE_PORT"; exit 1; fi
done
peers="" endpoints=""
for i in 1 2 3; do
  peers+="${peers:+,}$i=http://127.0.0.1:$((KV_BASE_PORT + i))"
  endpoints+="${endpoints:+,}http://127.0.0.1:$((KV_BASE_PORT + i))"
done
mkdir -p "$RAW" "$(dirname "$REPORT")"
# This script's own output from an earlier run (a README there stays); COSTS_ONLY keeps the other parts' files.
if [ "${COSTS_ONLY:-0}" = 1 ]; then rm -f "$RAW"/cost-*.json; else rm -f "$RAW"/*.json "$RAW"/*.csv; fi

# Starts node $1 of the current cluster on its data directory (new or existing), logging to its file.
start_node() {
  local i=$1
  ${KV_LOG_LEVEL:+env Logging__LogLevel__Default=$KV_LOG_LEVEL} dotnet "$server_dll" node --node-id "$i" \
    --listen "http://127.0.0.1:$((KV_BASE_PORT + i))" --peers "$peers" --data-dir "$work/$cluster/kv-$i" \
    ${with_metrics:+--metrics-listen "http://127.0.0.1:$((KV_BASE_PORT + 10 + i))"} >>"$work/$cluster/kv-$i.log" 2>&1 &
  node_pid[i]=$!
  running[$!]="$cluster node $i"
}
# Starts a fresh 3-node cluster named $1, waits until it accepts a put, splits it and writes the accounts.
start_cluster() {
  cluster=$1
  mkdir -p "$work/$cluster"
  log "cluster $cluster: starting 3 nodes ($endpoints)"
  for i in 1 2 3; do start_node "$i"; done
  load --target kv --endpoints "$endpoints" --op probe --seconds 60 --keys 1 2>>"$work/$cluster/probe.err" \
    || { log "cluster $cluster did not accept a put"; tail -n 20 "$work/$cluster"/kv-*.log >&2; exit 1; }
  load --target kv --endpoints "$endpoints" --op setup --accounts "$ACCOUNTS" --ranges "$RANGES" \
    >"$work/$cluster/setup.out" 2>"$work/$cluster/setup.err" \
    || { cat "$work/$cluster/setup.err" >&2; exit 1; }
  log "  $(cat "$work/$cluster/setup.out")"
}
# SIGKILL: the cluster's data is thrown away, so a clean shutdown (leadership handed off first) would only cost time.
stop_cluster() {
  local pid
  for pid in "${node_pid[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_pids "${node_pid[@]}"
  node_pid=()
}
# field NAME LINE: the value of NAME=… in a line of space-separated name=value pairs. Shell builtins only: the report
# looks up hundreds of fields, and a tr|sed pipe per lookup took half a minute on a loaded machine.
field() {
  local pair
  local -a pairs
  read -r -a pairs <<<"$2"
  for pair in "${pairs[@]}"; do [[ $pair == "$1="* ]] && echo "${pair#*=}"; done
  return 0
}

declare -A result=()   # result[name,field]
declare -a runs=()     # run names in order, and their commands
declare -a commands=()
# Runs one load (name $1, then Kv.Load arguments) in the foreground and keeps its summary line.
run_load() {
  local name=$1; shift
  local args=(--target kv --endpoints "$endpoints" "$@" --json "$RAW/$name.json")
  commands+=("dotnet $load_dll ${args[*]}")
  runs+=("$name")
  log "$name"
  local line
  line=$(load "${args[@]}" 2>"$work/$name.err") || true
  grep '^errors:' "$work/$name.err" >&2 || true
  echo "  $line" >&2
  result[$name,line]=$line
}

# ---------------------------------------------------------------- (c) per-commit costs (Gray & Lamport's measures)
# On the current cluster, fresh and serving /metrics. Every node is scraped before and after each window: an idle one
# (COST_IDLE_SECONDS, no load: the background of heartbeats and liveness messages), then 1 client for COST_SECONDS
# of single-range puts, of Paxos-commit transfers and of 2PC transfers (2 ranges each), no warmup so that every
# operation of the window is counted. `Kv.Load costs` turns the scrapes into counts per commit.
scrape_all() {   # $1: directory for node-1.prom..node-3.prom
  local i
  mkdir -p "$1"
  for i in 1 2 3; do
    curl -sf --max-time 10 "http://127.0.0.1:$((KV_BASE_PORT + 10 + i))/metrics" >"$1/node-$i.prom" \
      || { log "could not scrape node $i's /metrics"; return 1; }
  done
}
prom_files() { echo "$1/node-1.prom,$1/node-2.prom,$1/node-3.prom"; }
run_costs() {
  result[costs,setup]=$(cat "$work/$cluster/setup.out"); result[costs,layout]=$(cat "$work/$cluster/setup.err")
  local dir="$work/$cluster/scrapes" t0 t1 kind args
  scrape_all "$dir/idle-before"; t0=$(now_ms)
  log "costs: idle window, ${COST_IDLE_SECONDS} s"
  sleep "$COST_IDLE_SECONDS"
  scrape_all "$dir/idle-after"; t1=$(now_ms)
  result[costs,idle_s]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
  result[costs,loadavg]=$(cut -d' ' -f1-3 /proc/loadavg)
  for kind in put paxos two-phase; do
    if [ "$kind" = put ]; then
      args=(--op put --clients 1 --keys "$ACCOUNTS" --value-bytes 8)
    else
      args=(--op transfer --protocol "$kind" --clients 1 --ranges-per-txn 2 --accounts "$ACCOUNTS")
    fi
    scrape_all "$dir/$kind-before"; t0=$(now_ms)
    run_load "cost-$kind" "${args[@]}" --seconds "$COST_SECONDS" --warmup-seconds 0
    scrape_all "$dir/$kind-after"; t1=$(now_ms)
    local seconds commits_arg
    seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
    if [ "$kind" = put ]; then commits_arg=(--commits "$(field ops "${result[cost-put,line]}")"); else commits_arg=(--protocol "$kind"); fi
    result[cost-$kind,costs]=$(load costs --before "$(prom_files "$dir/$kind-before")" --after "$(prom_files "$dir/$kind-after")" \
      --seconds "$seconds" "${commits_arg[@]}" --idle-before "$(prom_files "$dir/idle-before")" \
      --idle-after "$(prom_files "$dir/idle-after")" --idle-seconds "${result[costs,idle_s]}" 2>&1) || true
    log "  ${result[cost-$kind,costs]}"
  done
  result[costs,loadavg_end]=$(cut -d' ' -f1-3 /proc/loadavg)
}

[ "${COSTS:-1}" = 1 ] && with_metrics=1
start_cluster a
[ "${COSTS:-1}" = 1 ] && run_costs
if [ "${COSTS_ONLY:-0}" != 1 ]; then   # (a) and (b); COSTS_ONLY=1 runs (c) alone
# ---------------------------------------------------------------- (a) normal operation
setup_a=$(cat "$work/a/setup.out"); layout_a=$(cat "$work/a/setup.err")
for clients in $CLIENTS_LIST; do
  if [ "$clients" = 1 ] || [ "$clients" = 16 ]; then
    run_load "compare-c$clients" --op compare --clients "$clients" --ranges-per-txn 2 --accounts "$ACCOUNTS" \
      --keys "$ACCOUNTS" --value-bytes 8 --seconds "$COMPARE_SECONDS" --warmup-seconds "$WARMUP_SECONDS"
    run_load "put-c$clients" --op put --clients "$clients" --seconds "$RUN_SECONDS" --warmup-seconds "$WARMUP_SECONDS" \
      --keys "$ACCOUNTS" --value-bytes 8
  fi
  for rpt in $RPT_LIST; do
    for protocol in $PROTOCOLS; do
      run_load "transfer-$protocol-c$clients-r$rpt" --op transfer --protocol "$protocol" --clients "$clients" \
        --ranges-per-txn "$rpt" --accounts "$ACCOUNTS" --seconds "$RUN_SECONDS" --warmup-seconds "$WARMUP_SECONDS"
    done
  done
done
verify_a=$(load --target kv --endpoints "$endpoints" --op verify --accounts "$ACCOUNTS" 2>&1) || true
log "$verify_a"
machine_a_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- (b) the coordinator dies mid-run
# The timeline's current time (s since the load started), or -1 before its first row.
timeline_t() { tail -n 1 "$1" 2>/dev/null | awk -F, '$1 ~ /^[0-9.]+$/ { print $1; found = 1 } END { if (!found) print -1 }'; }
wait_timeline() {   # $1 file, $2 seconds, $3 PID of the load: false if the load ended first
  while awk -v t="$(timeline_t "$1")" -v s="$2" 'BEGIN { exit !(t < s) }'; do
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
}
for protocol in $PROTOCOLS; do
  if [ "$KILL_CLUSTERS" = fresh ]; then
    stop_cluster
    with_metrics=""
    start_cluster "b-$protocol"
  else
    # The cluster of (a), or of the last kill run: its restarted node must be back in every range first.
    log "cluster $cluster, reused: waiting until every node hosts every range and each range has a leader"
    dotnet "$check_dll" verify --endpoints "$endpoints" --ranges "$RANGES" --timeout-s 60 >"$work/$cluster/check-$protocol.out" 2>&1 \
      || { tail -n 5 "$work/$cluster/check-$protocol.out" >&2; log "cluster $cluster did not recover"; exit 1; }
  fi
  result[kill-$protocol,setup]=$(cat "$work/$cluster/setup.out")
  name="kill-$protocol"
  declare -A sweeps_before=()
  for i in 1 2 3; do sweeps_before[$i]=$(grep -c 'Sweeper: finishing transaction' "$work/$cluster/kv-$i.log" || true); done
  timeline="$RAW/$name.csv" events="$work/$name.events"
  : >"$events"
  # --client-staging off: a node coordinates every commit, so that there is a coordinating node to kill. With the
  # SDK's default the client itself stages Paxos commits; its death is tested in ClientStagedCommitTests.
  args=(--target kv --endpoints "$endpoints" --op transfer --protocol "$protocol" --client-staging off --clients "$KILL_CLIENTS" --ranges-per-txn 2
    --accounts "$ACCOUNTS" --seconds "$((KILL_RUN_SECONDS - WARMUP_SECONDS))" --warmup-seconds "$WARMUP_SECONDS"
    --timeline "$timeline" --events "$events" --drain-seconds "$KILL_DRAIN_SECONDS" --json "$RAW/$name.json")
  commands+=("dotnet $load_dll ${args[*]}   # node killed at ${KILL_AT_S} s, restarted at ${RESTART_AT_S} s")
  log "$name: $KILL_CLIENTS clients, 2 ranges per transaction, ${KILL_RUN_SECONDS} s; kill the coordinator at ${KILL_AT_S} s, restart it at ${RESTART_AT_S} s"
  load "${args[@]}" >"$work/$name.out" 2>"$work/$name.err" &
  load_pid=$!; running[$load_pid]="load $name"
  victim=""
  if wait_timeline "$timeline" "$KILL_AT_S" "$load_pid"; then
    # The node most commits went to over the last second (the SDK sends them all to the leader it learned last).
    victim=$(tail -n 1 "$timeline" | awk -F, '{ print $NF }')
    if [ -z "$victim" ] || [ "$victim" = 0 ]; then log "no commits seen in the last second; killing node 1"; victim=1; fi
    kill -KILL "${node_pid[victim]}"
    echo "kill $(now_ms) $victim" >>"$events"
    wait "${node_pid[victim]}" 2>/dev/null || true
    unset "running[${node_pid[victim]}]"
    log "  SIGKILL node $victim (the coordinator) at t=$(timeline_t "$timeline") s"
    if wait_timeline "$timeline" "$RESTART_AT_S" "$load_pid"; then
      start_node "$victim"
      echo "restart $(now_ms) $victim" >>"$events"
      log "  restarted node $victim at t=$(timeline_t "$timeline") s"
    fi
  fi
  wait "$load_pid" || true
  unset "running[$load_pid]"
  grep '^errors:' "$work/$name.err" >&2 || true
  result[$name,line]=$(cat "$work/$name.out")
  result[$name,victim]=$victim
  echo "  ${result[$name,line]}" >&2
  result[$name,verify]=$(load --target kv --endpoints "$endpoints" --op verify --accounts "$ACCOUNTS" 2>&1) || true
  log "  ${result[$name,verify]}"
  for i in 1 2 3; do
    result[$name,sweeps$i]=$(( $(grep -c 'Sweeper: finishing transaction' "$work/$cluster/kv-$i.log" || true) - ${sweeps_before[$i]} ))
  done
done
fi   # (a) and (b)
stop_cluster
elapsed=$(( $(date +%s) - script_start ))

# ---------------------------------------------------------------- report
get() { echo "${result[$1]:-}"; }
f() { field "$2" "$(get "$1,line")"; }
ms() { if [ -n "$1" ]; then LC_ALL=C printf '%.2f' "${1}e-3"; else echo "–"; fi; }
ratio() { if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; else echo "–"; fi; }
le() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
mark() { if "$@"; then echo "met"; else echo "**NOT met**"; fi; }
or_dash() { if [ -n "$1" ]; then echo "$1"; else echo "–"; fi; }
protocol_name() { if [ "$1" = paxos ]; then echo "Paxos commit"; else echo "2PC"; fi; }
# The section of part (c): measured counts per commit, and the critical path as the code runs it.
costs_section() {
  local k line c name p50
  cf() { field "$2" "$(get "cost-$1,costs")"; }
  echo "## Per-commit costs (Gray & Lamport's measures)"
  echo
  echo "The 3-node cluster of (a), split and loaded (${result[costs,setup]:-not started}), measured first, before (a)'s runs;"
  echo "its nodes serve \`/metrics\` (\`--metrics-listen\`) throughout. \`curl\` scrapes every node before and after each window; \`Kv.Load costs\`"
  echo "(\`bench/Kv.Load/MetricsScrape.cs\`, \`CommitCosts.cs\`) sums the three nodes' deltas and divides by the commits."
  echo "Windows, in order: ${result[costs,idle_s]:-?} s idle (no load), then **1 client**, ${COST_SECONDS} s, no warmup"
  echo "(every operation in the window is counted): single-range puts (8-byte values; all their keys lie in one range),"
  echo "transfers with Paxos commit, transfers with 2PC (2 ranges per transaction). One client, so one commit at a time"
  echo "and group commit rarely merges two commits' syncs. Load average (1, 5, 15 min): ${result[costs,loadavg]:-?} before"
  echo "the first load window, ${result[costs,loadavg_end]:-?} after the last."
  echo
  echo "| kind | commits | window (s) | p50 (ms) | Paxos messages / commit | fsyncs / commit (3 nodes) | writers per fsync | proposals / commit | messages / commit less idle background | fsyncs / commit less idle background | coordinator |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for k in put paxos two-phase; do
    line=$(get "cost-$k,costs")
    case $k in put) name="single-range put"; p50=$(f cost-put p50_us);; paxos) name="Paxos commit (commit p50)"; p50=$(f cost-paxos commit_p50_us);; *) name="2PC (commit p50)"; p50=$(f cost-two-phase commit_p50_us);; esac
    if [ -z "$(cf "$k" commits)" ]; then
      echo "| $name | – | – | $(ms "$p50") | failed: ${line:-no figures} | | | | | | |"
      continue
    fi
    echo "| $name | $(cf "$k" commits) | $(cf "$k" seconds) | $(ms "$p50") | $(cf "$k" per_commit_peer_messages) | $(cf "$k" per_commit_fsyncs) | $(ratio "$(cf "$k" fsync_writes)" "$(cf "$k" fsyncs)") | $(cf "$k" per_commit_proposals) | $(cf "$k" net_per_commit_peer_messages) | $(cf "$k" net_per_commit_fsyncs) | $(or_dash "$(f "cost-$k" coordinator)") |"
  done
  echo
  echo "Idle background over the idle window, scaled to a load window: $(field background_peer_messages "$(get cost-put,costs)") Paxos"
  echo "messages and $(field background_fsyncs "$(get cost-put,costs)") fsyncs per ${COST_SECONDS} s (3 nodes). The raw columns are the"
  echo "honest ones; the \"less idle background\" columns understate a commit's share of heartbeats, because idle ranges"
  echo "quiesce (no heartbeats) while ranges under load keep sending them. Transfers touched: $(f cost-paxos ops) and"
  echo "$(f cost-two-phase ops) measured transactions (Kv.Load); commits counted by the coordinators: the \`commits\` column;"
  echo "not committed (conflicts, failures): $(cf paxos txn_not_committed) and $(cf two-phase txn_not_committed)."
  echo
  echo "What the counters count, and what they do not:"
  echo
  echo "- **Paxos messages** (\`kv_peer_messages_sent_total\`, every peer of every node): Accept, Accepted, Heartbeat,"
  echo "  HeartbeatAck, liveness and the rest, one per message. Messages between a node pair travel **batched** on one"
  echo "  gRPC stream, so these are messages, not network writes. A transfer's figure includes its \`Begin\` and its two"
  echo "  reads (served by the leaders, which may cost read-index messages), not only its commit."
  echo "- **fsyncs** (\`kv_storage_fsync_duration_seconds_count\`): synced writes of each node's group committer (every"
  echo "  Paxos promise and accept). **Not counted: the 2PC decision** (\`two-phase/decision/…\`), which the coordinating node"
  echo "  writes with its own synced RocksDB write outside the group committer: add 1 per 2PC commit."
  echo "  \"Writers per fsync\" is \`kv_storage_fsync_writes_sum / _count\` (1.0: no two writers shared a sync)."
  echo "- **proposals** (\`kv_paxos_proposals_total\`): commands leaders accepted for proposal. A 2-range transfer proposes"
  echo "  a stage per range (the Paxos-commit manifest rides inside the home range's stage) and, after the answer, a"
  echo "  resolve per range: 4. A put: 1."
  echo "- **gRPC calls between nodes** (a coordinator forwarding a stage or resolve to a range leader on another node, a"
  echo "  2PC participant asking the coordinator for its decision) have no counter (ASP.NET Core's meters are not"
  echo "  exported); they are counted from the code in the table below."
  echo
  echo "### The critical path, from the code"
  echo
  echo "From the client's request to its answer, in the failure-free case, as Kv runs it today (\`PaxosCommit.cs\`,"
  echo "\`TwoPhaseCommit.cs\`, \`RangeFanOut\`/\`RangeProposer\`, the replica host; docs/transactions.md §3 and §7). A Paxos"
  echo "round at a range leader with an established ballot is phase 2 only: the leader's Accepts leave before its own write,"
  echo "which runs in parallel with a follower's (src/Kv.Paxos/PAXOS.md §10); a follower syncs before answering Accepted; the"
  echo "value is chosen with the leader's durable accept plus one follower's (3 replicas); and the chosen prefix that follows"
  echo "is written in order without a sync (PAXOS.md §11). So one fsync is on the critical path of a round: the slower of"
  echo "the leader's and the follower's, which run at the same time. The deterministic simulator measures that for a put"
  echo "(\`WritePathTests\`: one fsync + 4 one-way delays). The SDK stages a Paxos commit over two ranges itself, each part at"
  echo "its range's leader (docs/transactions.md §3, \"Staged by the client\"). C is the node the SDK sends \`Commit\` to"
  echo "otherwise (2PC, and Paxos with \`--client-staging off\`; the \`coordinator\` column, where – means that no node"
  echo "coordinated: the SDK staged every commit); when C leads a range, its stage is proposed locally and the forwarding"
  echo "hops vanish for that range."
  echo
  echo "| protocol | hops on the critical path | message delays | fsyncs in sequence | 1-client p50 measured here |"
  echo "| --- | --- | ---: | ---: | ---: |"
  echo "| single-range put | client → leader (Put); leader → followers (Accept) while the leader syncs its accept; a follower syncs; follower → leader (Accepted); leader applies; leader → client | 4 | 1 (the leader's and a follower's in parallel) | $(ms "$(f cost-put p50_us)") ms |"
  echo "| Paxos commit, 2 ranges, staged by the client (the SDK's default, measured here) | client → each range's leader in parallel (Stage; the home range's part carries the STAGING manifest); Accept while the leader syncs; a follower syncs; Accepted; leader applies (locked); leader → client; all staged = committed. Then client → home leader (Finish) and the publish (a resolve per range, 2 more rounds), after the answer | 4 | 1 | $(ms "$(f cost-paxos commit_p50_us)") ms (commit) |"
  echo "| Paxos commit, 2 ranges, through a coordinator (\`--client-staging off\`; and always for one-range, scanning or locking transactions) | client → C (Commit); C → each range's leader in parallel (forwarded stage, the home range's with the STAGING manifest inside); Accept while the leader syncs; a follower syncs; Accepted; leader applies (locked); leader → C; all chosen = committed; C → client. Publish (a resolve per range, 2 more rounds) runs after the answer | 6 (4 if C leads both ranges) | 1 | – |"
  echo "| 2PC, 2 ranges | the same prepare (stage) rounds: client → C; C → leaders; Accept while the leader syncs; follower syncs; Accepted; leader → C; then **C syncs the decision on its own disk**; C → client. Resolves after the answer | 6 (4 if C leads both ranges) | 2 | $(ms "$(f cost-two-phase commit_p50_us)") ms (commit) |"
  echo
  echo "Expected counts, off the critical path too, per 2-range transfer: 4 Paxos rounds (2 stages, 2 resolves), each"
  echo "2 Accept + 2 Accepted = 16 Paxos messages plus heartbeats, and up to 3 fsyncs per round (the three replicas'"
  echo "accepts; chosen-prefix advances are not synced) = 12, for both protocols; 2PC adds its uncounted decision write."
  echo "Compare the measured table: messages above 16 are the \`Begin\`, the reads and heartbeats; fsyncs below 12 are syncs"
  echo "shared, since the host persists the Readies of every range in a loop turn in one synced write."
  echo
  echo "**Against Gray & Lamport.** In \"Consensus on Transaction Commit\" (J. Gray, L. Lamport, ACM TODS 31(1), 2006),"
  echo "counted from the first resource manager's request to commit until the decision is known, in the failure-free"
  echo "case, Two-Phase Commit takes 4 message delays and 2 stable-storage write delays (the RM's prepare, the TM's"
  echo "decision); Paxos Commit takes 5 message delays (4 for their faster variant, whose acceptors send phase 2b"
  echo "messages to the RMs directly) and also 2 write delays, and sends more messages than 2PC, growing with the F"
  echo "faults tolerated (their Table 1 gives the counts). Kv's figures above are not counted the same way — they start"
  echo "and end at a client, add a forwarding hop when C does not lead a range, and every participant is itself a"
  echo "replicated range — so only the shape compares: as in the paper, Paxos commit needs no synced decision at the"
  echo "coordinator, so its critical path has one fewer synced write than Kv's 2PC (1 against 2; in the paper the two"
  echo "protocols tie at 2 because their 2PC participant is a single unreplicated RM). Unlike the paper, Kv's Paxos commit"
  echo "sends no more Paxos messages than its 2PC: the ranges are replicated for every write anyway, and the manifest"
  echo "travels inside the home range's stage, so the fault tolerance costs no extra round or message here. Whether the"
  echo "one fewer sync shows in the measured p50 depends on this shared machine's noise at the time (the load average"
  echo "above); the 1-client rows are single runs, not a distribution of runs."
}

cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)

# The timeline of a kill run, one row per second (t counted from the load's start): transactions that succeeded,
# failed, the most locks seen (per range, the most any live replica holds; summed), in-doubt transactions (client's
# view) and keys they still block, the live nodes and the ranges with a live leader.
per_second() {
  awk -F, -v kill="$(f "kill-$1" kill_at_s)" -v restart="$(f "kill-$1" restart_at_s)" -v stop="$(f "kill-$1" load_stopped_at_s)" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      s = int($1 - 0.0001); if (!(s in seen)) { seen[s] = 1; order[++n] = s; live[s] = 9; led[s] = 999 }
      ops[s] += $(col["ops"]); err[s] += $(col["errors"])
      if ($(col["locks"]) > locks[s]) locks[s] = $(col["locks"])
      if ($(col["in_doubt"]) > doubt[s]) doubt[s] = $(col["in_doubt"])
      if ($(col["blocked_keys"]) > keys[s]) keys[s] = $(col["blocked_keys"])
      if ($(col["live_nodes"]) < live[s]) live[s] = $(col["live_nodes"])
      if ($(col["ranges_led"]) < led[s]) led[s] = $(col["ranges_led"])
      ranges[s] = $(col["ranges"])
    }
    END {
      print "| second | transactions/s | failed | locks (max) | in-doubt txns (max) | probed keys not readable yet (max) | nodes answering (min) | ranges led (min) | event |"
      print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
      for (k = 1; k <= n; k++) {
        s = order[k]; ev = ""
        if (kill != "" && s == int(kill)) ev = "kill at " kill " s"
        if (restart != "" && s == int(restart)) ev = "restart at " restart " s"
        if (stop != "" && s == int(stop)) ev = (ev ? ev ", " : "") "load stops at " stop " s"
        printf "| %d–%d | %d | %d | %d | %d | %d | %d | %d/%d | %s |\n", s, s + 1, ops[s], err[s], locks[s], doubt[s], keys[s], live[s], led[s], ranges[s], ev
      }
    }' "$RAW/kill-$1.csv"
}

if [ "${COSTS_ONLY:-0}" = 1 ]; then
  {
    echo "<!-- bench/commit-protocols.sh with COSTS_ONLY=1, $(date -u +'%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), ${elapsed} s -->"
    costs_section
    echo
    echo "The runs:"
    echo
    echo '```sh'
    for c in "${commands[@]}"; do echo "${c//$work/\$WORK}"; done
    echo '```'
  } >"$COSTS_REPORT"
  log "report section: $COSTS_REPORT (${elapsed} s)"
  cat "$COSTS_REPORT"
  exit 0
fi
{
  echo "# Paxos commit vs two-phase commit: the transfer workload on 3 nodes on one machine"
  echo
  echo "Generated by \`bench/commit-protocols.sh\` on $(date -u +'%Y-%m-%d %H:%M UTC') (whole script: ${elapsed} s)."
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
  echo "| commit | $(git rev-parse --short HEAD) ($(git rev-parse --abbrev-ref HEAD)) |"
  echo "| load average (1, 5, 15 min) | $loadavg_start at the start, $machine_a_end after (a), $(cut -d' ' -f1-3 /proc/loadavg) at the end |"
  echo
  echo "Everything shares the $(nproc) cores: the three nodes, the load generator and whatever else runs on the machine"
  echo "(the load average above shows how busy it was; anything above ~4 means other work competed with the cluster)."
  echo
  echo "## Setup"
  echo
  echo "Three \`Kv.Server.dll node\` processes on 127.0.0.1 (ports $((KV_BASE_PORT + 1))–$((KV_BASE_PORT + 3))), default settings"
  echo "(every Paxos write synced; \`TxnRecoverAfterMs\` 1000), data under a temp dir. \`Kv.Load --op setup\` splits the key space"
  echo "into $RANGES ranges at evenly spaced account keys and writes $ACCOUNTS accounts \`acct-000000\`… with a balance of 1,000,000 each."
  [ "${COSTS:-1}" = 1 ] && echo "The nodes of (a) also serve \`/metrics\` on ports $((KV_BASE_PORT + 11))–$((KV_BASE_PORT + 13)) (for the per-commit costs, measured on that cluster first)."
  echo "A transfer (\`Kv.Load --op transfer\`, through \`KvClient.RunTransactionAsync\`, \`MaxAttempts\` 10) picks accounts in"
  echo "1, 2 or 4 distinct ranges (1: two accounts of one range), reads them, and moves money: with 1 or 2 ranges from the"
  echo "first account to the second; with 4, from the first account to each of the other three (one debit, three credits)."
  echo "The first account is the home key. The whole transaction (begin, reads, commit, any retries) and the commit alone"
  echo "(\`CommitAsync\` of the attempt that committed) are timed in two HdrHistograms. The put baseline is \`Kv.Load --op put\`"
  echo "with 8-byte values over $ACCOUNTS keys \`k…\`, which all lie in the last range (single-range puts). Each run: ${WARMUP_SECONDS} s"
  echo "warmup, ${RUN_SECONDS} s measured. At the end of each cluster's runs \`Kv.Load --op verify\` reads every account back:"
  echo
  echo '```'
  echo "(a) $verify_a"
  for protocol in $PROTOCOLS; do echo "(b, $protocol) $(get "kill-$protocol,verify")"; done
  echo '```'
  echo
  echo "Cluster (a) after the split ($setup_a):"
  echo
  echo '```'
  echo "$layout_a"
  echo '```'
  echo
  echo "**Which node coordinates.** A Paxos commit over two or more ranges has no coordinating node: the SDK stages each"
  echo "range's part at that range's leader itself (docs/transactions.md §3, \"Staged by the client\"), and the tables show"
  echo "– for it. Every other commit (2PC, one range, or \`--client-staging off\`) goes through \`Commit\`, which the SDK"
  echo "sends (with \`Begin\`) to no key's leader in particular: to the leader it learned last from a NotLeader answer,"
  echo "whichever range that was (\`EndpointRouter.Pick()\`); so one node coordinates every such commit of a run, and it"
  echo "need not lead the ranges the transaction touches (its stages are then forwarded to their leaders: one more hop"
  echo "than a put, which the SDK sends straight to the leader). The tables name that node (\`coordinator\`: the node most"
  echo "commits went to, from \`KvClient.CachedLeaderEndpoint\` at each commit)."
  echo
  echo "## (a) Normal operation"
  echo
  echo "Latencies in ms. \"txn\": the whole transaction; \"commit\": \`CommitAsync\` alone. Retries: attempts run again after a"
  echo "conflict (by measured transactions that succeeded); failed: transactions that failed for good (kinds below)."
  echo
  echo "| clients | ranges/txn | protocol | txn/s | txn p50 | txn p90 | txn p99 | commit p50 | commit p90 | commit p99 | retries | failed | coordinator |"
  echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for clients in $CLIENTS_LIST; do
    for rpt in $RPT_LIST; do
      for protocol in $PROTOCOLS; do
        n="transfer-$protocol-c$clients-r$rpt"
        echo "| $clients | $rpt | $(protocol_name "$protocol") | $(or_dash "$(f "$n" ops_per_s)") | $(ms "$(f "$n" p50_us)") | $(ms "$(f "$n" p90_us)") | $(ms "$(f "$n" p99_us)") | $(ms "$(f "$n" commit_p50_us)") | $(ms "$(f "$n" commit_p90_us)") | $(ms "$(f "$n" commit_p99_us)") | $(or_dash "$(f "$n" retries)") | $(or_dash "$(f "$n" errors)") | $(or_dash "$(f "$n" coordinator)") |"
      done
    done
  done
  echo
  echo "Single-range puts in the same cluster (run just before the transfers of the same client count):"
  echo
  echo "| clients | puts/s | p50 | p90 | p99 | failed |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
  for clients in 1 16; do
    n="put-c$clients"
    [ -n "$(get "$n,line")" ] || continue
    echo "| $clients | $(f "$n" ops_per_s) | $(ms "$(f "$n" p50_us)") | $(ms "$(f "$n" p90_us)") | $(ms "$(f "$n" p99_us)") | $(f "$n" errors) |"
  done
  echo
  echo "### Put, Paxos commit and 2PC in the same run (\`--op compare\`, 2 ranges per transaction, ${COMPARE_SECONDS} s)"
  echo
  echo "The separate runs above each get their own coordinator when they have one (whichever leader the SDK learned last:"
  echo "the \`coordinator\` column) and their own moment of a machine shared with other work; on a busy 2-core VM repeating a separate run"
  echo "can move its commit p50 by 2× (see \`$RAW/README.md\`). So the latency targets are judged on runs that mix the"
  echo "three at random in one closed loop through one client: each operation is, with equal chance, a single-range put,"
  echo "a Paxos-commit transfer or a 2PC transfer, and each kind has its own histograms. A longer hand-run series of"
  echo "these runs, before and after a routing change on the commit path, is in [commit-vs-put-runs.md](commit-vs-put-runs.md)."
  echo
  echo "| clients | kind | ops/s | p50 | p90 | p99 | commit p50 | commit p90 | commit p99 | retries | coordinator |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for clients in 1 16; do
    n="compare-c$clients"
    [ -n "$(get "$n,line")" ] || continue
    for kind in put paxos two_phase; do
      case $kind in put) label="single-range put" ;; paxos) label="Paxos commit" ;; *) label="2PC" ;; esac
      if [ "$kind" = put ]; then c50="–" c90="–" c99="–" rt="–"
      else c50=$(ms "$(f "$n" "${kind}_commit_p50_us")") c90=$(ms "$(f "$n" "${kind}_commit_p90_us")") c99=$(ms "$(f "$n" "${kind}_commit_p99_us")") rt=$(f "$n" "${kind}_retries"); fi
      echo "| $clients | $label | $(f "$n" "${kind}_ops_per_s") | $(ms "$(f "$n" "${kind}_p50_us")") | $(ms "$(f "$n" "${kind}_p90_us")") | $(ms "$(f "$n" "${kind}_p99_us")") | $c50 | $c90 | $c99 | $rt | $(f "$n" coordinator) |"
    done
  done
  echo
  errors_any=0
  for n in "${runs[@]}"; do [ "$(f "$n" errors)" != 0 ] && [ -n "$(f "$n" errors)" ] && errors_any=1; done
  if [ "$errors_any" = 1 ]; then
    echo "Failures (kinds, how long they took, first messages; \"in read\" etc. names the step of the transaction):"
    echo
    echo '```'
    for n in "${runs[@]}"; do grep -h '^errors:' "$work/$n.err" 2>/dev/null | sed "s/^/$n: /" || true; done
    echo '```'
    echo
  fi

  echo "## (b) The coordinator killed mid-run"
  echo
  if [ "$KILL_CLUSTERS" = fresh ]; then
    echo "A fresh cluster per protocol, split and loaded the same way; $KILL_CLIENTS clients, 2 ranges per transaction,"
  else
    echo "The cluster of (a), reused (\`KILL_CLUSTERS=reuse\`: each run starts once every node hosts every range and each"
    echo "range has a leader again); $KILL_CLIENTS clients, 2 ranges per transaction,"
  fi
  echo "${KILL_RUN_SECONDS} s (${WARMUP_SECONDS} s of it warmup). Every 200 ms the load records the transactions that succeeded and"
  echo "failed and polls \`NodeStatus\` of every node (\`txn_locks\`, leaders). At ${KILL_AT_S} s the script sends SIGKILL to the node"
  echo "the load's commits went to over the last second, and starts it again at ${RESTART_AT_S} s on its data directory."
  echo "The load has all three endpoints, so after the kill the SDK sends commits to a surviving node (it marks the dead"
  echo "one and moves on to the next leader it learns). These runs use \`--client-staging off\`, so that a node coordinates"
  echo "every commit of both protocols: with the SDK's default a Paxos commit over two ranges is staged by the client itself,"
  echo "and then the coordinator that can die is the client (docs/transactions.md §3, \"Staged by the client\"; its death is"
  echo "tested in \`ClientStagedCommitTests\`)."
  echo "The clusters after their split: $(for p in $PROTOCOLS; do printf '%s: %s; ' "$(protocol_name "$p")" "$(get "kill-$p,setup")"; done)"
  echo "(\`leaders=nI:K\`: node I led K ranges then, the meta range included.)"
  echo
  echo "**In-doubt transactions, measured per key.** \`txn_locks\` counts the locks of in-flight transactions too: at"
  echo "$KILL_CLIENTS clients those are 20–45 locks at any moment (the \"locks before the kill\" below), the same order as the"
  echo "in-doubt ones, so while the load runs the sum never reaches 0 and cannot tell the two apart. The load therefore"
  echo "tracks the in-doubt transactions itself: every transaction whose commit failed (the coordinator died with it in"
  echo "flight: outcome unknown), and every transaction answered \"committed\" in the second before that (its publish may"
  echo "still have been pending at the dead node). It reads each of their keys with plain linearizable gets until each"
  echo "answers — a read of a key holding a staged version waits until the transaction is finished — and reads beside"
  echo "each key a control key of the same range that nothing writes, which answers as soon as the range has a leader"
  echo "again. So \"keys usable again\" includes any election the kill caused (the victim also led ranges), and \"lock wait\""
  echo "is the part caused by the lock alone (though a key can also wait, briefly, for the lock of a newer transaction"
  echo "whose other range is still electing). \`txn_locks\` is in the per-second tables as well (\"locks\": per range, the most"
  echo "any answering replica holds, summed over the ranges), and after the load stops ($KILL_DRAIN_SECONDS s of sampling without load) it"
  echo "must drain to 0. A node counts as answering while its latest \`NodeStatus\` (polled every 200 ms) is under 1 s old;"
  echo "\"ranges led\" counts the ranges (the meta range included) that an answering node leads."
  echo
  echo "| | $(for p in $PROTOCOLS; do printf '%s | ' "$(protocol_name "$p")"; done)"
  echo "| --- | $(for p in $PROTOCOLS; do printf -- '---: | '; done)"
  row() { printf '| %s |' "$1"; for p in $PROTOCOLS; do printf ' %s |' "$(or_dash "$(f "kill-$p" "$2")")"; done; echo; }
  echo "| killed node (coordinator) | $(for p in $PROTOCOLS; do printf '%s (%s %% of the commits in the 2 s before) | ' "$(get "kill-$p,victim")" "$(awk -v s="$(f "kill-$p" coordinator_share)" 'BEGIN { printf "%.0f", s * 100 }')"; done)"
  echo "| ranges the killed node led just before the kill (of $((RANGES + 1)), the meta range included) | $(for p in $PROTOCOLS; do printf '%s | ' "$(f "kill-$p" killed_node_led)"; done)"
  row "kill at (s)" kill_at_s
  row "restart at (s)" restart_at_s
  row "throughput before the kill (txn/s, 5 s)" ops_per_s_before_kill
  row "throughput kill → restart (txn/s)" ops_per_s_kill_to_restart
  row "throughput after the restart (txn/s)" ops_per_s_after_restart
  row "lowest whole second after the kill (txn/s)" lowest_second_ops_per_s
  row "time with no transaction succeeding (s, 200 ms slots)" zero_throughput_s
  row "throughput back to ≥ 80 % of before, after (s)" throughput_recovered_after_kill_s
  row "every range led by a live node again, after (s)" all_ranges_led_after_kill_s
  row "in-doubt transactions (commit sent, outcome unknown)" in_doubt_txns
  row "**their keys all usable again, after the kill (s)**" in_doubt_resolved_after_kill_s
  row "… before the restart?" in_doubt_resolved_before_restart
  echo "| … after the restart (s) | $(for p in $PROTOCOLS; do printf '%s | ' "$(awk -v v="$(f "kill-$p" in_doubt_resolved_after_kill_s)" -v k="$(f "kill-$p" kill_at_s)" -v r="$(f "kill-$p" restart_at_s)" 'BEGIN { if (v == "" || r == "") print "–"; else if (k + v < r) print "(before)"; else printf "%.2f", k + v - r }')"; done)"
  row "longest wait of an in-doubt key beyond its range's election (s)" in_doubt_lock_wait_max_s
  row "transactions answered committed in the second before, probed too" answered_probed_txns
  row "… their keys all usable again, after the kill (s)" answered_usable_after_kill_s
  row "**every probed key usable again, after the kill (s)**" all_keys_usable_after_kill_s
  row "locks before the kill: mean (in-flight transactions)" locks_before_kill_mean
  row "locks before the kill: max" locks_before_kill_max
  row "locks after the kill: max" locks_max_after_kill
  row "locks at 0 on every node, after the load stopped (s)" locks_zero_after_load_stop_s
  row "transactions that failed (whole run)" errors
  echo "| \"Sweeper: finishing transaction\" log lines (nodes 1, 2, 3) | $(for p in $PROTOCOLS; do printf '%s, %s, %s | ' "$(get "kill-$p,sweeps1")" "$(get "kill-$p,sweeps2")" "$(get "kill-$p,sweeps3")"; done)"
  echo
  for protocol in $PROTOCOLS; do
    echo "Failures during the $(protocol_name "$protocol") kill run (kinds, the step they failed in, how long they took, first"
    echo "messages), and the probes' reads that failed and were tried again:"
    echo
    echo '```'
    grep -h -E '^(errors|probe reads that failed):' "$work/kill-$protocol.err" 2>/dev/null || echo "none"
    echo '```'
    echo
  done
  for protocol in $PROTOCOLS; do
    echo "### Timeline, $(protocol_name "$protocol") (per second; t from the load's start)"
    echo
    per_second "$protocol"
    echo
  done

  echo "## Targets"
  echo
  echo "The latency targets are judged two ways, both shown: on the mixed runs (\"in the same run\" taken literally: the"
  echo "same client, coordinator and moment for puts and both protocols; the puts there run among transactions, whose"
  echo "stages and background publishing compete with them) and on the separate runs (a put run alone, the stricter"
  echo "baseline: an idle single-range put, with its group commit, against a transaction run's commits)."
  echo
  echo "| target | measured | |"
  echo "| --- | --- | --- |"
  for clients in 1 16; do
    n="compare-c$clients"
    if [ -n "$(get "$n,line")" ]; then
      px=$(f "$n" paxos_commit_p50_us) tp=$(f "$n" two_phase_commit_p50_us) put=$(f "$n" put_p50_us)
      limit=$(awk -v p="$put" 'BEGIN { printf "%.0f", 1.3 * p }')
      echo "| Paxos commit of a 2-range transaction, $clients client(s): commit p50 ≤ 1.3× a single-range put's p50 — mixed run (puts and transfers interleaved) | $(ratio "$px" "$put")× ($(ms "$px") ms vs put $(ms "$put") ms; the whole transaction: $(ratio "$(f "$n" paxos_p50_us)" "$put")×) | $(mark le "$px" "$limit") |"
      echo "| Paxos commit of a 2-range transaction, $clients client(s): commit p50 ≤ 2PC's — mixed run | $(ms "$px") ms vs $(ms "$tp") ms ($(ratio "$px" "$tp")×) | $(mark le "$px" "$tp") |"
    fi
  done
  for clients in 1 16; do
    px="transfer-paxos-c$clients-r2" tp="transfer-two-phase-c$clients-r2" put="put-c$clients"
    [ -n "$(get "$px,line")" ] && [ -n "$(get "$put,line")" ] && [ -n "$(get "$tp,line")" ] || continue
    limit=$(awk -v p="$(f "$put" p50_us)" 'BEGIN { printf "%.0f", 1.3 * p }')
    echo "| Paxos commit of a 2-range transaction, $clients client(s): commit p50 ≤ 1.3× a single-range put's p50 — separate runs (puts alone, just before) | $(ratio "$(f "$px" commit_p50_us)" "$(f "$put" p50_us)")× ($(ms "$(f "$px" commit_p50_us)") ms vs put $(ms "$(f "$put" p50_us)") ms) | $(mark le "$(f "$px" commit_p50_us)" "$limit") |"
    echo "| Paxos commit of a 2-range transaction, $clients client(s): commit p50 ≤ 2PC's — separate runs | $(ms "$(f "$px" commit_p50_us)") ms vs $(ms "$(f "$tp" commit_p50_us)") ms, coordinators $(or_dash "$(f "$px" coordinator)") and $(or_dash "$(f "$tp" coordinator)") | $(mark le "$(f "$px" commit_p50_us)" "$(f "$tp" commit_p50_us)") |"
  done
  if [ -n "$(get "kill-paxos,line")" ]; then
    v=$(f kill-paxos in_doubt_resolved_after_kill_s)
    echo "| After a coordinator kill, Paxos commit: in-doubt transactions resolved (keys usable) in ≤ 3 s | $(or_dash "$v") s ($(f kill-paxos in_doubt_txns) transactions) | $(mark le "$v" 3) |"
  fi
  if [ -n "$(get "kill-two-phase,line")" ]; then
    v=$(f kill-two-phase in_doubt_resolved_after_kill_s); k=$(f kill-two-phase kill_at_s); r=$(f kill-two-phase restart_at_s)
    blocked_until_restart() { [ -n "$v" ] && [ -n "$r" ] && awk -v v="$v" -v k="$k" -v r="$r" 'BEGIN { exit !(k + v >= r) }'; }
    echo "| After a coordinator kill, 2PC: in-doubt transactions stay blocked until the coordinator returns (shown how long) | keys usable $(or_dash "$v") s after the kill, $(awk -v v="$v" -v k="$k" -v r="$r" 'BEGIN { if (v == "") print "–"; else printf "%.2f", k + v - r }') s after the restart; the node was down $(awk -v k="$k" -v r="$r" 'BEGIN { printf "%.2f", r - k }') s ($(f kill-two-phase in_doubt_txns) transactions) | $(if [ "$(f kill-two-phase in_doubt_txns)" = 0 ]; then echo "not shown (no transaction was in doubt)"; else mark blocked_until_restart; fi) |"
  fi
  echo
  if [ "${COSTS:-1}" = 1 ]; then costs_section; echo; fi
  echo "## Raw data"
  echo
  [ -f "$RAW/README.md" ] && echo "Notes on these figures, and problems found while taking them: [\`$RAW/README.md\`]($(basename "$RAW")/README.md)." && echo
  echo "In \`$RAW/\`: one JSON per run (\`Kv.Load --json\`: the summary, error kinds, commits per node; the kill runs"
  echo "also the timeline summary and every probed transaction), and the 200 ms timelines of the kill runs (\`kill-*.csv\`)."
  echo "The runs, in order:"
  echo
  echo '```sh'
  for c in "${commands[@]}"; do echo "${c//$work/\$WORK}"; done
  echo '```'
} >"$REPORT"
log "report: $REPORT (${elapsed} s)"
cat "$REPORT"
