#!/usr/bin/env bash
# Alternates probed runs of two settings, ROUNDS times, and prints each stage's median per run side by side.
#
#   bash bench/stage-probe/ab.sh "KV_X_NOSYNC=0" "KV_X_NOSYNC=1" [ROUNDS=3]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=$1; b=$2; rounds=${3:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/kv-stage-ab.XXXXXX")
for r in $(seq 1 "$rounds"); do
  for v in A B; do
    setting=$([ "$v" = A ] && echo "$a" || echo "$b")
    # shellcheck disable=SC2086 # the setting is NAME=VALUE words for env
    line=$(env $setting bash "$here/run.sh" "$work/$v-$r")
    echo "$v ($setting) round $r: $(echo "$line" | grep -oE 'p50_us=[0-9]+')" >&2
    python3 "$here/stages.py" "$work/$v-$r" --tsv >"$work/$v-$r.tsv"
  done
done
python3 - "$work" "$rounds" "$a" "$b" <<'PY'
import sys, csv
work, rounds, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
table = {}
order = []
for v in "AB":
    for r in range(1, rounds + 1):
        for stage, p50 in csv.reader(open(f"{work}/{v}-{r}.tsv"), delimiter="\t"):
            if stage not in table: order.append(stage)
            table.setdefault(stage, {}).setdefault(v, []).append(float(p50))
print(f"stage p50 in µs per round; A: {a}; B: {b}")
for stage in order:
    cols = table[stage]
    print(f"{stage:34s} A: {' '.join(f'{x:7.1f}' for x in cols.get('A', []))}   B: {' '.join(f'{x:7.1f}' for x in cols.get('B', []))}")
PY
rm -rf "$work"
