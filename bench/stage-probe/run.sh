#!/usr/bin/env bash
# One probed run: a 3-node cluster of the PROBE build (see README.md: this checkout with stage-probe.patch applied and
# built in Release), 1-client puts for SECONDS_PER_RUN (6; OP=get for gets), then every node stopped with SIGTERM so that each process writes
# its marks to OUT_DIR/pPID.txt. Environment variables (KV_X_..., see README.md) reach the nodes and the load tool.
#
#   bash bench/stage-probe/run.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: run.sh OUT_DIR}
grep -q LatProbe src/Kv.Server/Replication/ReplicaHost.cs \
  || { echo "this checkout has no probe: apply bench/stage-probe/stage-probe.patch first (README.md)" >&2; exit 2; }
KV_LOG_TAG=probe
source bench/lib.sh
kv_trap_cleanup
rm -rf "$out"; mkdir -p "$out"
export KV_LATPROBE_DIR; KV_LATPROBE_DIR=$(cd "$out" && pwd)
kv_start_cluster "$KV_WORK/kv"
sleep 2
dotnet "$KV_LOAD_DLL" --target kv --endpoints "$KV_ENDPOINTS" --op "${OP:-put}" --clients 1 --seconds "${SECONDS_PER_RUN:-6}" \
  --warmup-seconds 2 --keys 10000 --value-bytes 256 2>/dev/null | tail -n 1
# SIGTERM: a clean stop runs the probe's exit handler; kv_stop_pids waits up to 5 s for it.
kv_stop_pids "${KV_PIDS[@]}" 2>/dev/null
