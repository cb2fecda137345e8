#!/usr/bin/env bash
# Snapshot create and restore speed (docs/snapshots.md): starts a 3-node cluster (three `Kv.Server node` processes
# on free 127.0.0.1 ports, temp data directories), loads --bytes of data (16 KiB values, batched puts through
# Kv.Client), times `Snapshots.Create` --creates times (target: under 5 s at 1 GiB; copy-on-write, no data copied),
# exports the first snapshot into a backup directory and verifies it, stops the cluster, then restores the backup
# into three new data directories: each node is started alone with --restore-from and measured from its own log
# line (verify + write of the whole backup; target: at least 100 MiB/s), then the restored cluster must serve a
# sample of the loaded keys with their values. Writes the figures and the machine to --out.
#
#   bench/snapshots.sh [--bytes 1073741824] [--creates 3] [--node-flags "--election-timeout-ticks 300 ..."]
#                      [--out bench/results/snapshots.md] [--no-build]
#
# --node-flags go to every node (source and restored); the report records them.
# Every process the script starts is killed by PID when it exits, however it exits.
set -euo pipefail

bytes=$((1 << 30))
creates=3
node_flags=""
out="bench/results/snapshots.md"
build=1
command_line="bench/snapshots.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --bytes) bytes="$2"; shift 2 ;;
    --creates) creates="$2"; shift 2 ;;
    --node-flags) node_flags="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source bench/lib.sh
server_dll="src/Kv.Server/bin/Release/net10.0/Kv.Server.dll"
tool_dll="bench/Kv.SnapshotBench/bin/Release/net10.0/Kv.SnapshotBench.dll"
work="$(mktemp -d "${TMPDIR:-/tmp}/kv-snapshots.XXXXXX")"
pids=()

stop_nodes() {
  if [ "${#pids[@]}" -gt 0 ]; then kv_stop_pids "${pids[@]}"; fi
  pids=()
}
cleanup() {
  local status=$?
  stop_nodes
  if [ "$status" -ne 0 ] && [ -d "$work" ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "---- $f (last 20 lines) ----" >&2; tail -n 20 "$f" >&2; }; done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[snapshots $(date +%T)] $*" >&2; }

if [ "$build" -eq 1 ]; then
  log "building Release"
  dotnet build -c Release -v q -nologo src/Kv.Server/Kv.Server.csproj >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
  dotnet build -c Release -v q -nologo bench/Kv.SnapshotBench/Kv.SnapshotBench.csproj >>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
fi

ports=()
for i in 1 2 3; do
  p=$(kv_free_port)
  while [[ " ${ports[*]:-} " == *" $p "* ]]; do p=$(kv_free_port); done # kv_free_port ran in a subshell: it cannot remember
  ports+=("$p")
done
url() { echo "http://127.0.0.1:${ports[$(($1 - 1))]}"; }
peers="1=$(url 1),2=$(url 2),3=$(url 3)"
endpoints="$(url 1),$(url 2),$(url 3)"
read -r -a extra_flags <<<"$node_flags"
tool() { local cmd="$1"; shift; dotnet "$tool_dll" "$cmd" --endpoints "$endpoints" "$@"; }
start_node() { # id data-dir log [extra flags…]
  local i="$1" dir="$2" logf="$3"; shift 3
  dotnet "$server_dll" node --node-id "$i" --listen "$(url "$i")" --peers "$peers" --data-dir "$dir" "${extra_flags[@]}" "$@" >"$logf" 2>&1 &
  pids+=("$!")
  disown "$!"
}
fact() { awk -F= -v k="$1" '$1 == k { v = $2 } END { print v }' "$work/facts"; }
touch "$work/facts"

# ---- source cluster: load, snapshots, export --------------------------------------------------------------------
for i in 1 2 3; do start_node "$i" "$work/src-$i" "$work/src-$i.log"; done
log "source cluster on $endpoints; loading $((bytes >> 20)) MiB"
tool load --bytes "$bytes" >>"$work/facts"
log "loaded in $(fact load_s) s; data directories: $(du -sm "$work"/src-1 | cut -f1) MiB on node 1"
for n in $(seq "$creates"); do
  tool create --name "bench-$n" | sed "s/^/c${n}_/" >>"$work/facts"
  log "create bench-$n: $(fact "c${n}_create_ms") ms, $(fact "c${n}_create_ranges") ranges, ~$(( $(fact "c${n}_create_size_bytes") >> 20 )) MiB"
done
log "exporting bench-1"
tool export --name bench-1 --dir "$work/backup" >>"$work/facts"
log "exported $(( $(fact export_bytes) >> 20 )) MiB in $(fact export_s) s; verified in $(fact verify_s) s"
stop_nodes

# ---- restore: each node alone, then the cluster ---------------------------------------------------------------
for i in 1 2 3; do
  start_node "$i" "$work/dst-$i" "$work/dst-$i.log" --restore-from "$work/backup"
  for _ in $(seq 1800); do
    grep -q "Restored snapshot" "$work/dst-$i.log" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { log "node $i exited during the restore"; exit 1; }
    sleep 0.2
  done
  line="$(grep "Restored snapshot" "$work/dst-$i.log" | head -n1)"
  [ -n "$line" ] || { log "node $i did not restore within 6 minutes"; exit 1; }
  echo "restore_s_node$i=$(sed -E 's/.*restore took ([0-9.]+) s.*/\1/' <<<"$line")" >>"$work/facts"
  echo "restore_verify_s_node$i=$(sed -E 's/.*verified in ([0-9.]+) s.*/\1/' <<<"$line")" >>"$work/facts"
  echo "restore_mibs_node$i=$(sed -E 's/.*: ([0-9]+) MiB\/s.*/\1/' <<<"$line")" >>"$work/facts"
  log "node $i restored: $(fact "restore_s_node$i") s ($(fact "restore_verify_s_node$i") s verifying), $(fact "restore_mibs_node$i") MiB/s"
done
tool check --bytes "$bytes" >>"$work/facts"
log "restored cluster serves $(fact check_keys) sampled keys with their loaded values"

# ---- report ---------------------------------------------------------------------------------------------------
mkdir -p "$(dirname "$out")"
{
  echo "# Snapshots: create and restore"
  echo
  echo "Measured by \`$command_line\` on $(date -u +%Y-%m-%d) (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))."
  echo
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM,"
  echo "$(uname -sr), file system $(df -T "$work" | awk 'NR == 2 { print $2 }'). Shared with other work while measured (load average"
  echo "$(cut -d' ' -f1-3 /proc/loadavg) at the end); 3 nodes on one machine. Node flags: ${node_flags:-none}."
  echo
  echo "Data: $(fact load_keys) keys of 16 KiB random values ($(( $(fact load_bytes) >> 20 )) MiB of values), loaded in $(fact load_s) s through"
  echo "Kv.Client batched puts (replicated 3 times, so each node stores all of it)."
  echo
  echo "| step | figure | target |"
  echo "| --- | --- | --- |"
  for n in $(seq "$creates"); do
    echo "| \`snapshot create\` bench-$n ($(fact "c${n}_create_ranges") ranges) | $(fact "c${n}_create_ms") ms | < 5000 ms |"
  done
  echo "| export bench-1 ($(( $(fact export_bytes) >> 20 )) MiB of backup files) | $(fact export_s) s | — |"
  echo "| verify the backup (SHA-256 of every file) | $(fact verify_s) s | — |"
  for i in 1 2 3; do
    echo "| restore on node $i (verify + write the whole backup) | $(fact "restore_s_node$i") s = $(fact "restore_mibs_node$i") MiB/s (verify alone $(fact "restore_verify_s_node$i") s) | ≥ 100 MiB/s |"
  done
  echo
  echo "Create takes the pieces (one Paxos round per range), then one RocksDB checkpoint per node (a flush of the"
  echo "memtables, then hard links) and the manifest (one Paxos round in the meta range). Restore rates are backup file"
  echo "bytes over the node's own restore time (its log line), each node restored alone; after all three the restored"
  echo "cluster served $(fact check_keys) sampled keys with their loaded values."
} >"$out"
log "wrote $out"
cat "$out"
