"""Where a 1-client put's time goes, stage by stage, from the marks a probed run wrote (README.md).

    python3 bench/stage-probe/stages.py OUT_DIR [--tsv]

Each process wrote `pPID.txt`: one line per mark, the monotonic clock (Stopwatch ticks, ns on Linux, shared by every
process on the machine) and the mark's code. The leader is the node with the most proposals; for each put the
fastest follower is the one whose Accepted reached the leader first. A put at 1 client is alone in the cluster, so
"the next mark of this code after the previous stage" follows it through the processes.
"""
import bisect, glob, os, statistics, sys

marks = {}
for path in glob.glob(os.path.join(sys.argv[1], "p*.txt")):
    codes = {}
    for line in open(path):
        t, c = line.split()
        codes.setdefault(int(c), []).append(int(t))
    marks[os.path.basename(path)] = codes
if not marks:
    sys.exit(f"no marks in {sys.argv[1]}")

def count(p, c): return len(marks[p].get(c, []))
leader = max(marks, key=lambda p: count(p, 10))
client = max(marks, key=lambda p: count(p, 90))
followers = [p for p in marks if p not in (leader, client) and count(p, 21) > 0]

def after(p, c, t):
    a = marks[p].get(c, [])
    i = bisect.bisect_left(a, t)
    return a[i] if i < len(a) else None

rows = []
for t90 in marks[client].get(90, []):
    t91 = after(client, 91, t90)
    t80 = after(leader, 80, t90)
    if None in (t91, t80) or t80 > t91: continue
    s = {}
    chain = [(leader, 80)]
    t10 = after(leader, 10, t80); t11 = after(leader, 11, t10) if t10 else None
    t12 = after(leader, 12, t11) if t11 else None
    t51 = after(leader, 51, t11) if t11 else None
    t61 = after(leader, 61, t51) if t51 else None
    t31 = after(leader, 31, t61) if t61 else None
    t13 = after(leader, 13, t12) if t12 else None
    t14 = after(leader, 14, t13) if t13 else None
    if None in (t10, t11, t12, t51, t61, t31, t13, t14): continue
    best = None
    for f in followers:
        f41 = after(f, 41, t61)
        if f41 is None: continue
        f21 = after(f, 21, f41); f12 = after(f, 12, f21) if f21 else None
        f13 = after(f, 13, f12) if f12 else None; f14 = after(f, 14, f13) if f13 else None
        f15 = after(f, 15, f14) if f14 else None; f52 = after(f, 52, f15) if f15 else None
        f62 = after(f, 62, f52) if f52 else None; f32 = after(f, 32, f62) if f62 else None
        l42 = after(leader, 42, f62) if f62 else None
        if None in (f21, f12, f13, f14, f15, f52, f62, f32, l42) or l42 > t91: continue
        if best is None or l42 < best[-1]:
            best = (f41, f21, f12, f13, f14, f15, f52, f62, l42)
    if best is None: continue
    f41, f21, f12, f13, f14, f15, f52, f62, l42 = best
    l22 = after(leader, 22, l42); t16 = after(leader, 16, l22) if l22 else None
    t17 = after(leader, 17, t16) if t16 else None; t82 = after(leader, 82, t17) if t17 else None
    if None in (l22, t16, t17, t82) or t82 > t91: continue
    rows.append({
        "client → leader's handler": t80 - t90,
        "leader: handler → proposal queued": t10 - t80,
        "leader: queue → replica loop": t11 - t10,
        "leader: propose → Accepts handed to the peer queues": t51 - t11,
        "leader: peer queue → batch taken": t61 - t51,
        "leader: batch taken → gRPC write returned": t31 - t61,
        "leader → follower: batch taken → received": f41 - t61,
        "leader: own synced write (in parallel)": t14 - t13,
        "follower: received → replica loop": f21 - f41,
        "follower: loop → Ready handled": f12 - f21,
        "follower: Ready → synced write starts": f13 - f12,
        "follower: synced write": f14 - f13,
        "follower: write returned → loop resumes": f15 - f14,
        "follower: loop → Accepted handed to the peer queue": f52 - f15,
        "follower: peer queue → batch taken": f62 - f52,
        "follower → leader: batch taken → received": l42 - f62,
        "leader: received → replica loop": l22 - l42,
        "leader: loop → chosen and applied": t16 - l22,
        "leader: applied → proposal answered": t17 - t16,
        "leader: answered → handler returns": t82 - t17,
        "leader → client: handler returns → client has the answer": t91 - t82,
        "the put, as the client sees it": t91 - t90,
    })
if not rows:
    sys.exit("no complete put found (was it a 1-client put run of the probe build?)")
if "--tsv" in sys.argv:
    for k in rows[0]:
        print(f"{k}\t{statistics.median(r[k] for r in rows) / 1000:.1f}")
else:
    print(f"{len(rows)} puts (leader {leader}, client {client}); µs")
    print(f"{'stage':60s} {'p50':>7s} {'mean':>7s} {'p90':>7s}")
    for k in rows[0]:
        v = sorted(r[k] for r in rows)
        print(f"{k:60s} {v[len(v) // 2] / 1000:7.1f} {statistics.mean(v) / 1000:7.1f} {v[int(len(v) * 0.9)] / 1000:7.1f}")
