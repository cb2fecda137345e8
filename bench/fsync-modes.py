"""The cost of fdatasync by how a file is written (bench/results/kv-vs-etcd.md, "Where a 1-client put's time goes").

    python3 bench/fsync-modes.py append|falloc|prewritten FILE N

Writes 1 KiB N times, each followed by fdatasync, and prints p50/mean/p90/p99 in microseconds. append: the file
grows with every write (RocksDB's WAL); falloc: into 64 MiB allocated up front with the size set (etcd's WAL
segments); prewritten: over 8 MiB written and synced before (recycled log files). Run three at once, on three
files, to see three nodes sharing one disk.
"""
import os, sys, time, statistics
mode, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
buf = os.urandom(1024)
if mode == "append":
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
elif mode == "falloc":   # preallocated, size extended (etcd-like), unwritten extents
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.posix_fallocate(fd, 0, 64 << 20); os.fsync(fd); os.lseek(fd, 0, 0)
elif mode == "prewritten":  # fully written first, then overwritten in place
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    z = b"\0" * (1 << 20)
    for _ in range(8): os.write(fd, z)
    os.fsync(fd); os.lseek(fd, 0, 0)
lat = []
for i in range(n):
    t = time.perf_counter()
    os.write(fd, buf)
    os.fdatasync(fd)
    lat.append((time.perf_counter() - t) * 1e6)
lat.sort()
print(f"{mode:11s} p50={lat[len(lat)//2]:6.0f} mean={statistics.mean(lat):6.0f} p90={lat[int(len(lat)*0.9)]:6.0f} p99={lat[int(len(lat)*0.99)]:6.0f} us")
