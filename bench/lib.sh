# Shared shell helpers of the bench scripts (sourced, not run): logging, free ports, a 3-node Kv cluster of real
# processes on 127.0.0.1, stopping what a script started (by PID only), CPU time from /proc, and the machine.
#
#   source "$(dirname "$0")/lib.sh"
#   kv_trap_cleanup                    # on exit: SIGKILL every PID in KV_STARTED, remove KV_WORK (unless KEEP_WORK=1)
#   kv_build src/Kv.Server/Kv.Server.csproj bench/Kv.Load/Kv.Load.csproj    # Release, unless SKIP_BUILD=1
#   kv_start_cluster "$KV_WORK/cluster"   # sets KV_PIDS (node i at index i-1), KV_ENDPOINTS, KV_PEERS
#
# Used by bench/ycsb.sh, bench/run-all.sh and bench/client-overhead.sh; for ports and stopping by PID also by bench/snapshots.sh,
# bench/idle-ranges.sh, bench/compare-etcd.sh and bench/commit-protocols.sh (the last two pin fixed ports and restart
# single nodes mid-run, so they start their clusters themselves).

KV_SERVER_DLL=${KV_SERVER_DLL:-src/Kv.Server/bin/Release/net10.0/Kv.Server.dll}
KV_LOAD_DLL=${KV_LOAD_DLL:-bench/Kv.Load/bin/Release/net10.0/Kv.Load.dll}
declare -a KV_STARTED=()   # every PID a script started through these helpers
declare -a KV_PIDS=()      # the current cluster's nodes
KV_ENDPOINTS="" KV_PEERS=""
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

kv_log() { echo "[${KV_LOG_TAG:-bench} $(date +%T)] $*" >&2; }

# A TCP port nobody listens on (and not handed out before in this script), below the kernel's ephemeral range:
# a port in that range can be taken by any outgoing connection between the check and the bind (seen: a node
# died with "address already in use" while other work ran tests on the machine).
declare -a KV_PORTS_GIVEN=()
kv_free_port() {
  local p low=32768 span
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  span=$((low - 10000))
  [ "$span" -lt 1000 ] && span=40000   # an unusual ephemeral range: fall back to anywhere from 10000 up
  while :; do
    p=$((10000 + RANDOM % span))
    if ! ss -Hltn "sport = :$p" | grep -q . && [[ " ${KV_PORTS_GIVEN[*]:-} " != *" $p "* ]]; then
      KV_PORTS_GIVEN+=("$p"); echo "$p"; return
    fi
  done
}

# Stops the given PIDs: TERM, up to 5 s for a clean exit, then KILL; and forgets them.
kv_stop_pids() {
  local pid
  [ $# -eq 0 ] && return 0
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  local kept=() p
  for p in "${KV_STARTED[@]}"; do [[ " $* " == *" $p "* ]] || kept+=("$p"); done
  KV_STARTED=("${kept[@]}")
}

# SIGKILL to the given PIDs, waits for them to exit, and forgets them: for processes whose data is thrown away
# (a node's clean shutdown hands its leaderships off first, which costs seconds and measures nothing).
kv_kill_pids() {
  local pid
  [ $# -eq 0 ] && return 0
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
  kv_stop_pids "$@"
}

# Sets KV_WORK (a temp dir) and an EXIT trap that kills what was started and removes it (KEEP_WORK=1 keeps it).
kv_trap_cleanup() {
  KV_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kv-${KV_LOG_TAG:-bench}.XXXXXX")
  trap kv_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
kv_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ "${#KV_STARTED[@]}" -gt 0 ] && kv_kill_pids "${KV_STARTED[@]}"
  if [ "$status" -ne 0 ] && [ -n "${KV_WORK:-}" ]; then
    local f
    for f in "$KV_WORK"/*/kv-*.log; do
      [ -f "$f" ] && { echo "---- $f (last 15 lines) ----" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept ${KV_WORK:-}" >&2; else rm -rf "${KV_WORK:-/nonexistent}"; fi
  exit "$status"
}

# Builds the given projects in Release, quietly, unless SKIP_BUILD=1.
kv_build() {
  [ "${SKIP_BUILD:-0}" = 1 ] && return 0
  local project
  for project in "$@"; do
    kv_log "building $project (Release)"
    dotnet build -c Release -v q -nologo "$project" >"$KV_WORK/build.log" 2>&1 || { cat "$KV_WORK/build.log" >&2; return 1; }
  done
}

# Starts three `Kv.Server node` processes on free ports with data under $1, waits until the cluster takes a put.
# KV_NODE_FLAGS go to every node; KV_LOG_LEVEL (e.g. Warning) sets their default log level.
# A node that exits while starting (a port taken in the meantime) makes it start all three again on other ports,
# up to three times.
kv_start_cluster() {
  local dir=$1 i attempt
  local ports=() flags=()
  read -r -a flags <<<"${KV_NODE_FLAGS:-}"
  for attempt in 1 2 3; do
    mkdir -p "$dir"; rm -rf "$dir"/kv-*
    ports=()
    for i in 1 2 3; do ports+=("$(kv_free_port)"); done
    KV_PEERS="1=http://127.0.0.1:${ports[0]},2=http://127.0.0.1:${ports[1]},3=http://127.0.0.1:${ports[2]}"
    KV_ENDPOINTS="http://127.0.0.1:${ports[0]},http://127.0.0.1:${ports[1]},http://127.0.0.1:${ports[2]}"
    KV_PIDS=()
    for i in 1 2 3; do
      ${KV_LOG_LEVEL:+env Logging__LogLevel__Default=$KV_LOG_LEVEL} dotnet "$KV_SERVER_DLL" node --node-id "$i" \
        --listen "http://127.0.0.1:${ports[$((i - 1))]}" --peers "$KV_PEERS" --data-dir "$dir/kv-$i" "${flags[@]}" \
        >"$dir/kv-$i.log" 2>&1 &
      KV_PIDS+=("$!"); KV_STARTED+=("$!")
    done
    kv_log "cluster: nodes ${KV_PIDS[*]} on $KV_ENDPOINTS"
    kv_wait_serving "$dir" 60 && break
    kv_kill_pids "${KV_PIDS[@]}"
    [ "$attempt" = 3 ] && { kv_log "the cluster did not start in 3 attempts"; return 1; }
    kv_log "starting again on other ports"
  done
  dotnet "$KV_LOAD_DLL" --target kv --endpoints "$KV_ENDPOINTS" --op probe --seconds 60 --keys 1 >/dev/null 2>"$dir/probe.err" \
    || { kv_log "the cluster did not accept a put within 60 s"; return 1; }
}

# Waits until every node of KV_PIDS has written "serving on" to $1/kv-I.log (the node prints it once it listens),
# at most $2 seconds; false, naming the node, if one exits first or time runs out.
kv_wait_serving() {
  local dir=$1 deadline=$(( $(date +%s) + $2 )) i pending
  while :; do
    pending=0
    for i in 1 2 3; do
      grep -q 'serving on' "$dir/kv-$i.log" 2>/dev/null && continue
      if ! kill -0 "${KV_PIDS[$((i - 1))]}" 2>/dev/null; then
        kv_log "node $i exited while starting: $(grep -m1 -E 'Exception|error' "$dir/kv-$i.log" | cut -c1-200)"
        return 1
      fi
      pending=1
    done
    [ "$pending" = 0 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && { kv_log "the nodes did not all listen within $2 s"; return 1; }
    sleep 0.1
  done
}

# CPU seconds (user + system) used so far by the given PIDs together (utime + stime from /proc/PID/stat).
kv_cpu_seconds() {
  local ticks=0 t pid
  for pid in "$@"; do
    t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')
    ticks=$((ticks + ${t:-0}))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}

kv_loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# The machine as Markdown table rows (| name | value |).
kv_machine_rows() {
  echo "| cores (nproc) | $(nproc) |"
  echo "| CPU | $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo) |"
  echo "| memory | $(free -g | awk '/^Mem:/{print $2}') GiB |"
  echo "| kernel | $(uname -r) |"
  echo "| .NET SDK | $(dotnet --version) |"
}

# The machine as a JSON object.
kv_machine_json() {
  jq -n --arg cores "$(nproc)" --arg cpu "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)" \
    --arg mem "$(free -g | awk '/^Mem:/{print $2}')" --arg kernel "$(uname -r)" --arg dotnet "$(dotnet --version)" \
    '{cores: ($cores | tonumber), cpu: $cpu, memory_gib: ($mem | tonumber), kernel: $kernel, dotnet_sdk: $dotnet}'
}
