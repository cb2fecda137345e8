using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using RocksDbSharp;

namespace Kv.Storage.Tests.Mvcc;

/// <summary>
/// Random puts, deletes, stages, publishes, aborts and garbage collections applied both to an MvccStore and to
/// a plain in-memory model; every read and scan (both directions, paged) at random timestamps must agree.
/// A failure names its seed: rerun that case alone to reproduce it.
/// </summary>
public sealed class MvccModelTests
{
    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (int seed = 1; seed <= 24; seed++) seeds.Add(seed);
        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomHistory_ReadsAndScansMatchTheModel(int seed)
    {
        using var f = new MvccFixture();
        var random = new Random(seed);
        var model = new Model();
        // Keys are drawn from bytes that stress the escaping: 0x00, 0x01 and 0xFF, plus one ordinary byte.
        var keys = new List<byte[]>();
        byte[] alphabet = [0x00, 0x01, 0xFF, (byte)'k'];
        while (keys.Count < 14)
        {
            var key = new byte[random.Next(1, 5)];
            for (int i = 0; i < key.Length; i++) key[i] = alphabet[random.Next(alphabet.Length)];
            if (!keys.Any(k => k.AsSpan().SequenceEqual(key))) keys.Add(key);
        }
        var txns = new[] { new TxnId(1, 1), new TxnId(2, 2), new TxnId(3, 3) };
        long retentionWall = 0;

        for (int step = 0; step < 250; step++)
        {
            using var batch = new WriteBatch();
            int writes = random.Next(1, 5);
            for (int w = 0; w < writes; w++)
            {
                var key = keys[random.Next(keys.Count)];
                var ts = RandomTimestamp(random, retentionWall + 1);
                switch (random.Next(10))
                {
                    case < 4:
                        var value = RandomValue(random);
                        f.Mvcc.Put(batch, key, value, ts);
                        model.Commit(key, ts, value);
                        break;
                    case < 6:
                        f.Mvcc.Delete(batch, key, ts);
                        model.Commit(key, ts, null);
                        break;
                    default:
                        var txn = txns[random.Next(txns.Length)];
                        // Staging over another transaction's staged version is the caller's error: check first,
                        // and check that the store reports the same owner as the model.
                        if (model.StagedInBatch(key)) break;
                        bool hasStaged = f.Mvcc.TryGetStaged(key, out var existing);
                        Assert.Equal(model.Staged.TryGetValue(Model.Hex(key), out var modelStaged), hasStaged);
                        if (hasStaged) Assert.Equal(modelStaged.Txn, existing.TxnId);
                        if (hasStaged && existing.TxnId != txn) break;
                        bool tombstone = random.Next(4) == 0;
                        var staged = tombstone ? [] : RandomValue(random);
                        if (tombstone) f.Mvcc.StageDelete(batch, key, txn, ts);
                        else f.Mvcc.Stage(batch, key, txn, ts, staged);
                        model.Stage(key, txn, ts, tombstone ? null : staged);
                        break;
                }
            }
            f.Mvcc.Write(batch);
            model.EndBatch();

            // Resolve a transaction now and then: publish or abort, by key list or by span.
            if (random.Next(6) == 0)
            {
                var txn = txns[random.Next(txns.Length)];
                using var resolve = new WriteBatch();
                bool publish = random.Next(3) > 0;
                var commitTs = RandomTimestamp(random, retentionWall + 1);
                var owned = model.KeysStagedBy(txn);
                int resolved = (publish, random.Next(2) == 0) switch
                {
                    (true, true) => f.Mvcc.Publish(resolve, owned.ConvertAll(k => k.Key), txn, commitTs),
                    (true, false) => f.Mvcc.Publish(resolve, KeySpan.All, txn, commitTs),
                    (false, true) => f.Mvcc.RemoveStaged(resolve, owned.ConvertAll(k => k.Key), txn),
                    (false, false) => f.Mvcc.RemoveStaged(resolve, KeySpan.All, txn),
                };
                Assert.Equal(owned.Count, resolved);
                f.Mvcc.Write(resolve);
                model.Resolve(txn, publish ? commitTs : null);
            }

            if (random.Next(40) == 0)
            {
                long threshold = retentionWall + random.Next(0, 10);
                if (threshold > 0)
                {
                    f.Mvcc.CollectGarbage(KeySpan.All, new Timestamp(threshold, 0));
                    model.CollectGarbage(new Timestamp(threshold, 0));
                    retentionWall = threshold;
                }
            }

            if (random.Next(50) == 0) f.Node.FlushAll();

            for (int r = 0; r < 3; r++)
            {
                var key = random.Next(5) == 0 ? [(byte)random.Next(256)] : keys[random.Next(keys.Count)];
                var readTs = RandomReadTimestamp(random, retentionWall);
                var stored = f.Mvcc.Get(key, readTs);
                var expected = model.Read(key, readTs);
                Assert.True(Same(expected, stored),
                    $"seed {seed} step {step}: Get({Model.Hex(key)}, {readTs}) store {Describe(stored)} model {Describe(expected)}");
            }

            if (step % 5 == 0) CheckScan(f.Mvcc, model, random, keys, retentionWall, seed, step);
        }
    }

    private static void CheckScan(MvccStore store, Model model, Random random, List<byte[]> keys, long retentionWall, int seed, int step)
    {
        var bounds = keys.OrderBy(k => k, ByteComparer.Instance).ToList();
        byte[] start = random.Next(3) == 0 ? [] : bounds[random.Next(bounds.Count)];
        byte[]? end = random.Next(3) == 0 ? null : bounds[random.Next(bounds.Count)];
        if (end is not null && ByteComparer.Instance.Compare(end, start) <= 0) end = null;
        var span = new KeySpan(start, end);
        var readTs = RandomReadTimestamp(random, retentionWall);
        bool reverse = random.Next(2) == 0;
        int limit = random.Next(1, 6);

        var actual = new List<(byte[] Key, MvccReadResult Result)>();
        byte[]? resume = null;
        do
        {
            var page = store.Scan(span, readTs, limit, reverse, resume);
            Assert.True(page.Entries.Count <= limit);
            foreach (var e in page.Entries) actual.Add((e.Key, e.Result));
            resume = page.ResumeKey;
        }
        while (resume is not null);

        var expected = model.Scan(span, readTs);
        if (reverse) expected.Reverse();
        string context = $"seed {seed} step {step}: Scan({span}, {readTs}, limit {limit}, reverse {reverse})";
        Assert.True(expected.Count == actual.Count,
            $"{context}: store {string.Join(",", actual.Select(a => Model.Hex(a.Key)))} model {string.Join(",", expected.Select(a => Model.Hex(a.Key)))}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Key.AsSpan().SequenceEqual(actual[i].Key), $"{context}: entry {i} key");
            Assert.True(Same(expected[i].Result, actual[i].Result),
                $"{context}: entry {i} store {Describe(actual[i].Result)} model {Describe(expected[i].Result)}");
        }
    }

    private static bool Same(MvccReadResult a, MvccReadResult b) =>
        a.Status == b.Status && a.VersionTimestamp == b.VersionTimestamp && a.Staged == b.Staged
        && (a.Value is null ? b.Value is null : b.Value is not null && a.Value.AsSpan().SequenceEqual(b.Value));

    private static string Describe(MvccReadResult r) =>
        $"{r.Status} value={(r.Value is null ? "null" : Convert.ToHexString(r.Value))} at {r.VersionTimestamp} staged={r.Staged}";

    private static Timestamp RandomTimestamp(Random random, long wallMin) =>
        new(wallMin + random.Next(0, 60), random.Next(0, 3));

    private static Timestamp RandomReadTimestamp(Random random, long retentionWall) =>
        random.Next(10) == 0 ? Timestamp.Max : new Timestamp(Math.Max(1, retentionWall) + random.Next(0, 80), random.Next(0, 3));

    private static byte[] RandomValue(Random random)
    {
        var value = new byte[random.Next(0, 12)];
        random.NextBytes(value);
        return value;
    }

    /// <summary>The reference: committed versions per key in a sorted map, staged versions in a dictionary.</summary>
    private sealed class Model
    {
        public readonly Dictionary<string, (byte[] Key, SortedDictionary<Timestamp, byte[]?> Versions)> Committed = [];
        public readonly Dictionary<string, (byte[] Key, TxnId Txn, Timestamp Ts, byte[]? Value)> Staged = [];
        private readonly HashSet<string> _stagedInBatch = [];

        public static string Hex(byte[] key) => Convert.ToHexString(key);

        public void Commit(byte[] key, Timestamp ts, byte[]? value)
        {
            if (!Committed.TryGetValue(Hex(key), out var entry))
                Committed[Hex(key)] = entry = (key, new SortedDictionary<Timestamp, byte[]?>());
            entry.Versions[ts] = value;
        }

        public void Stage(byte[] key, TxnId txn, Timestamp ts, byte[]? value)
        {
            Staged[Hex(key)] = (key, txn, ts, value);
            _stagedInBatch.Add(Hex(key));
        }

        // The store checks ownership against the database, not the batch being built: one stage per key per batch.
        public bool StagedInBatch(byte[] key) => _stagedInBatch.Contains(Hex(key));

        public void EndBatch() => _stagedInBatch.Clear();

        public List<(byte[] Key, TxnId Txn, Timestamp Ts, byte[]? Value)> KeysStagedBy(TxnId txn) =>
            Staged.Values.Where(s => s.Txn == txn).ToList();

        public void Resolve(TxnId txn, Timestamp? commitTs)
        {
            foreach (var s in KeysStagedBy(txn))
            {
                Staged.Remove(Hex(s.Key));
                if (commitTs is { } ts) Commit(s.Key, ts, s.Value);
            }
        }

        public void CollectGarbage(Timestamp threshold)
        {
            foreach (var (_, versions) in Committed.Values)
            {
                var atOrBelow = versions.Keys.Where(t => t <= threshold).ToList();
                if (atOrBelow.Count == 0) continue;
                var newest = atOrBelow[^1];
                foreach (var t in atOrBelow)
                    if (t < newest || versions[newest] is null) versions.Remove(t);
            }
        }

        public MvccReadResult Read(byte[] key, Timestamp readTs)
        {
            byte[]? value = null;
            var versionTs = Timestamp.Zero;
            if (Committed.TryGetValue(Hex(key), out var entry))
            {
                foreach (var (t, v) in entry.Versions)
                {
                    if (t > readTs) break;
                    versionTs = t;
                    value = v;
                }
            }
            if (Staged.TryGetValue(Hex(key), out var s) && s.Ts <= readTs)
                return new MvccReadResult(MvccReadStatus.StagedVersionEncountered, value, versionTs, new StagedIntent(s.Txn, s.Ts));
            return new MvccReadResult(value is null ? MvccReadStatus.Absent : MvccReadStatus.Value, value, versionTs, default);
        }

        public List<(byte[] Key, MvccReadResult Result)> Scan(KeySpan span, Timestamp readTs)
        {
            var all = Committed.Values.Select(c => c.Key).Concat(Staged.Values.Select(s => s.Key))
                .DistinctBy(Hex)
                .Where(k => span.Contains(k))
                .OrderBy(k => k, ByteComparer.Instance);
            var result = new List<(byte[], MvccReadResult)>();
            foreach (var key in all)
            {
                var read = Read(key, readTs);
                if (read.Status != MvccReadStatus.Absent) result.Add((key, read));
            }
            return result;
        }
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
