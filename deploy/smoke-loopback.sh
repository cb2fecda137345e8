#!/usr/bin/env bash
# Runs pods kv-0, kv-1 and kv-2 of deploy/k8s as three local processes, with the manifests' exact environment
# and ports: pod kv-N becomes 127.0.0.(N+1), so every node listens on 7100 (gRPC) and 7180 (metrics) as in a pod.
# Builds the server as the Dockerfile does, runs the sample client (samples/Kv.Samples) and the image's health
# check against the cluster, then stops the nodes with SIGTERM (by PID) and reports how long each took.
# Needs: dotnet, kubectl (kustomize only, offline), node with `npm ci` run in deploy/validate.
# The automated version, on free ports, is tests/Kv.Deploy.Tests/LoopbackSmokeTests.cs.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in dotnet kubectl node; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (see docs/deploy.md)" >&2; exit 1; }
done
[ -d deploy/validate/node_modules/yaml ] || { echo "run: (cd deploy/validate && npm ci)" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_all EXIT

echo "== publishing the server as the image's build stage does"
dotnet publish src/Kv.Server/Kv.Server.csproj -c Release -r linux-x64 --no-self-contained -o "$work/app" --nologo -v quiet

yaml="$(kubectl kustomize deploy/k8s)"
# Pod kv-N's environment from the StatefulSet, its addresses moved to loopback: pod names under the headless
# Service become 127.0.0.1..3, the wildcard listen address the pod's own loopback address, /var/lib/kv a temp dir.
pod_env() {
  local ordinal="$1"
  node deploy/validate/pod-env.mjs "kv-$ordinal" default --shell <<<"$yaml" | sed \
    -e 's#kv-0\.kv-peers\.default\.svc#127.0.0.1#g' \
    -e 's#kv-1\.kv-peers\.default\.svc#127.0.0.2#g' \
    -e 's#kv-2\.kv-peers\.default\.svc#127.0.0.3#g' \
    -e "s#0\.0\.0\.0#127.0.0.$((ordinal + 1))#g" \
    -e "s#/var/lib/kv#$work/kv-$ordinal#g"
}

for ordinal in 0 1 2; do
  pod_env "$ordinal" > "$work/kv-$ordinal.env"
  echo "== kv-$ordinal:"; sed 's/^export /   /' "$work/kv-$ordinal.env"
  ( set -a; . "$work/kv-$ordinal.env"; exec dotnet "$work/app/Kv.Server.dll" node ) > "$work/kv-$ordinal.log" 2>&1 &
  pids+=("$!")
done

for ordinal in 0 1 2; do
  for _ in $(seq 1 120); do
    grep -q "serving on" "$work/kv-$ordinal.log" && break
    if ! kill -0 "${pids[$ordinal]}" 2>/dev/null; then echo "kv-$ordinal exited:"; cat "$work/kv-$ordinal.log"; exit 1; fi
    sleep 0.5
  done
  grep -q "serving on" "$work/kv-$ordinal.log" || { echo "kv-$ordinal did not start within 60 s:"; tail -20 "$work/kv-$ordinal.log"; exit 1; }
  echo "kv-$ordinal (pid ${pids[$ordinal]}): $(grep -m1 'serving on' "$work/kv-$ordinal.log")"
done

echo "== the image's health check (dotnet Kv.Server.dll health) in kv-1's environment"
( set -a; . "$work/kv-1.env"; dotnet "$work/app/Kv.Server.dll" health )

echo "== sample client against http://127.0.0.{1,2,3}:7100"
dotnet run --project samples/Kv.Samples -c Release -- --endpoints http://127.0.0.1:7100,http://127.0.0.2:7100,http://127.0.0.3:7100

echo "== stopping with SIGTERM (the StatefulSet allows 30 s)"
for ordinal in 0 1 2; do
  pid="${pids[$ordinal]}"
  start=$(date +%s.%N)
  kill -TERM "$pid"
  status=0; wait "$pid" || status=$?
  awk -v o="$ordinal" -v s="$start" -v e="$(date +%s.%N)" -v c="$status" 'BEGIN { printf "kv-%s stopped in %.1f s with exit code %s\n", o, e - s, c }'
  [ "$status" -eq 0 ] || { echo "kv-$ordinal did not stop cleanly:"; tail -20 "$work/kv-$ordinal.log"; exit 1; }
done
pids=()
echo "smoke test passed"
