using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using static Kv.Storage.Tests.Mvcc.MvccFixture;

namespace Kv.Storage.Tests.Mvcc;

/// <summary>
/// Edges of the scan paths that reverse scans and page assembly depend on: a key's versions met oldest first
/// across page boundaries, staged versions and tombstones as a key's newest version, values of every size
/// (the reverse path copies its candidate straight from RocksDB and prefetches the bytes before it), and pages
/// that stay intact after later scans (entries gather in a pooled array).
/// </summary>
public sealed class MvccScanEdgeTests : IDisposable
{
    private readonly MvccFixture _f = new();

    public void Dispose() => _f.Dispose();

    private MvccStore Mvcc => _f.Mvcc;

    private static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    /// <summary>All pages of a scan, concatenated, checking each page's limit and resume key on the way.</summary>
    private List<MvccScanEntry> ScanAll(KeySpan span, Timestamp readAt, int limit, bool reverse)
    {
        var all = new List<MvccScanEntry>();
        byte[]? resume = null;
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages < 10_000, "the scan does not end");
            var page = Mvcc.Scan(span, readAt, limit, reverse, resume);
            Assert.True(page.Entries.Count <= limit);
            all.AddRange(page.Entries);
            if (page.ResumeKey is null) return all;
            Assert.Equal(limit, page.Entries.Count);
            Assert.Equal(page.Entries[^1].Key, page.ResumeKey);
            resume = page.ResumeKey;
        }
    }

    /// <summary>A value whose bytes name its key and version, <paramref name="length"/> bytes long.</summary>
    private static byte[] ValueOf(int key, int version, int length)
    {
        var head = System.Text.Encoding.UTF8.GetBytes($"{key}@{version}|");
        var value = new byte[Math.Max(length, head.Length)];
        head.CopyTo(value, 0);
        for (int i = head.Length; i < value.Length; i++) value[i] = (byte)(key * 31 + version * 7 + i);
        return value;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(100)]
    public void ReverseScan_KeysWithManyVersions_AcrossPageBoundaries_ReturnEachKeysNewestVisibleVersion(int limit)
    {
        // Key k has k % 13 + 1 versions at 10, 20, …: some fewer than the steps a scan takes before it seeks
        // (SequentialStepsMax), some more. Value sizes vary from 1 byte to 3 KB, above and below the prefetch window.
        const int keys = 40;
        int VersionsOf(int k) => k % 13 + 1;
        int LengthOf(int k, int v) => (k * 397 + v * 131) % 3_000 + 1;
        _f.Batch(b =>
        {
            for (int k = 0; k < keys; k++)
                for (int v = 1; v <= VersionsOf(k); v++)
                    Mvcc.Put(b, B($"k{k:D2}"), ValueOf(k, v, LengthOf(k, v)), Ts(v * 10));
        });
        _f.Node.FlushAll();

        foreach (var readAt in new[] { Ts(5), Ts(10), Ts(45), Ts(95), Timestamp.Max })
        {
            var expected = Enumerable.Range(0, keys)
                .Select(k => (k, v: (int)Math.Min(VersionsOf(k), readAt.WallNanos / 10)))
                .Where(x => x.v >= 1)
                .Reverse()
                .Select(x => (Key: $"k{x.k:D2}", Value: ValueOf(x.k, x.v, LengthOf(x.k, x.v)), Version: Ts(x.v * 10)))
                .ToList();
            var actual = ScanAll(KeySpan.All, readAt, limit, reverse: true);
            Assert.Equal(expected.Select(e => e.Key), actual.Select(e => Text(e.Key)));
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(MvccReadStatus.Value, actual[i].Result.Status);
                Assert.Equal(expected[i].Value, actual[i].Result.Value);
                Assert.Equal(expected[i].Version, actual[i].Result.VersionTimestamp);
            }
            // The forward scan returns the same entries in the other order.
            var forward = ScanAll(KeySpan.All, readAt, limit, reverse: false);
            forward.Reverse();
            Assert.Equal(actual.Select(e => Text(e.Key)), forward.Select(e => Text(e.Key)));
            Assert.Equal(actual.Select(e => e.Result.Value), forward.Select(e => e.Result.Value));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(100)]
    public void ReverseScan_StagedVersionAsNewest_IsReportedWithTheCommittedVersionBelowIt(int limit)
    {
        _f.Batch(b =>
        {
            Mvcc.Put(b, B("a"), B("a10"), Ts(10));
            // b: two committed versions and a staged one above them.
            Mvcc.Put(b, B("b"), B("b10"), Ts(10));
            Mvcc.Put(b, B("b"), B("b20"), Ts(20));
            Mvcc.Stage(b, B("b"), TxnA, Ts(25), B("b-staged"));
            // c: only a staged version (a staged delete).
            Mvcc.StageDelete(b, B("c"), TxnB, Ts(25));
            // d: many committed versions and a staged one, so that the reverse path seeks.
            for (int v = 1; v <= 12; v++) Mvcc.Put(b, B("d"), B($"d{v * 10}"), Ts(v * 10));
            Mvcc.Stage(b, B("d"), TxnB, Ts(125), B("d-staged"));
            Mvcc.Put(b, B("e"), B("e10"), Ts(10));
        });

        var late = ScanAll(KeySpan.All, Ts(200), limit, reverse: true);
        Assert.Equal(["e", "d", "c", "b", "a"], late.Select(e => Text(e.Key)));
        var byKey = late.ToDictionary(e => Text(e.Key), e => e.Result);
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, byKey["b"].Status);
        Assert.Equal(new StagedIntent(TxnA, Ts(25)), byKey["b"].Staged);
        Assert.Equal(B("b20"), byKey["b"].Value);
        Assert.Equal(Ts(20), byKey["b"].VersionTimestamp);
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, byKey["c"].Status);
        Assert.Null(byKey["c"].Value);
        Assert.Equal(Timestamp.Zero, byKey["c"].VersionTimestamp);
        Assert.Equal(new StagedIntent(TxnB, Ts(25)), byKey["c"].Staged);
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, byKey["d"].Status);
        Assert.Equal(B("d120"), byKey["d"].Value);
        Assert.Equal(new StagedIntent(TxnB, Ts(125)), byKey["d"].Staged);
        Assert.Equal(MvccReadStatus.Value, byKey["e"].Status);

        // Below the staged versions' timestamps they are invisible: plain values, and c has none.
        var early = ScanAll(KeySpan.All, Ts(22), limit, reverse: true);
        Assert.Equal(["e", "d", "b", "a"], early.Select(e => Text(e.Key)));
        Assert.All(early, e => Assert.Equal(MvccReadStatus.Value, e.Result.Status));
        Assert.Equal(B("b20"), early[2].Result.Value);
        Assert.Equal(B("d20"), early[1].Result.Value);

        // Each entry agrees with Get (values compared by content).
        foreach (var entry in late)
        {
            var read = Mvcc.Get(entry.Key, Ts(200));
            Assert.Equal((read.Status, read.VersionTimestamp, read.Staged), (entry.Result.Status, entry.Result.VersionTimestamp, entry.Result.Staged));
            Assert.Equal(read.Value, entry.Result.Value);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    public void ReverseScan_TombstoneAsNewest_SkipsTheKey_AndOlderReadsSeeTheValueBelowIt(int limit)
    {
        _f.Batch(b =>
        {
            foreach (char c in "abcdef") Mvcc.Put(b, B($"{c}"), B($"{c}10"), Ts(10));
            Mvcc.Delete(b, B("b"), Ts(20));
            // d: deleted, written again, deleted again; many versions so that the reverse path seeks.
            for (int v = 2; v <= 12; v++)
            {
                if (v % 2 == 0) Mvcc.Delete(b, B("d"), Ts(v * 10));
                else Mvcc.Put(b, B("d"), B($"d{v * 10}"), Ts(v * 10));
            }
            // f: the only key in its page when limit is 1, deleted.
            Mvcc.Delete(b, B("f"), Ts(20));
        });

        Assert.Equal(["e", "c", "a"], ScanAll(KeySpan.All, Ts(200), limit, reverse: true).Select(e => Text(e.Key)));
        Assert.Equal(["f", "e", "d", "c", "b", "a"], ScanAll(KeySpan.All, Ts(15), limit, reverse: true).Select(e => Text(e.Key)));
        var at95 = ScanAll(KeySpan.All, Ts(95), limit, reverse: true);
        Assert.Equal(["e", "d", "c", "a"], at95.Select(e => Text(e.Key)));
        Assert.Equal(B("d90"), at95[1].Result.Value);
        Assert.Equal(Ts(90), at95[1].Result.VersionTimestamp);
        // Just after a deletion of d the key is gone again.
        Assert.Equal(["e", "c", "a"], ScanAll(KeySpan.All, Ts(100), limit, reverse: true).Select(e => Text(e.Key)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Scan_PagesLargerThanTheFirstGatheringArray_StayIntactAfterLaterScans(bool reverse)
    {
        // 700 keys in pages of 300 and 1,000: entries gather in a pooled array that grows past its first size.
        _f.Batch(b =>
        {
            for (int k = 0; k < 700; k++) Mvcc.Put(b, B($"p{k:D3}"), B($"value {k}"), Ts(10));
        });
        var first = Mvcc.Scan(KeySpan.All, Timestamp.Max, 300, reverse);
        var whole = Mvcc.Scan(KeySpan.All, Timestamp.Max, 1_000, reverse);
        var firstKeys = first.Entries.Select(e => Text(e.Key)).ToList();

        // Later scans must not change an earlier page: neither a new scan nor the next page.
        var next = Mvcc.Scan(KeySpan.All, Timestamp.Max, 300, reverse, first.ResumeKey);
        Mvcc.Scan(new KeySpan(B("p5"), null), Timestamp.Max, 1_000, reverse);

        var order = Enumerable.Range(0, 700);
        if (reverse) order = order.Reverse();
        var expected = order.Select(k => (Key: $"p{k:D3}", Value: $"value {k}")).ToList();
        Assert.Equal(expected.Take(300).Select(e => e.Key), first.Entries.Select(e => Text(e.Key)));
        Assert.Equal(firstKeys, first.Entries.Select(e => Text(e.Key)));
        Assert.Equal(expected.Take(300).Select(e => e.Value), first.Entries.Select(e => Text(e.Result.Value!)));
        Assert.Equal(expected.Skip(300).Take(300).Select(e => e.Key), next.Entries.Select(e => Text(e.Key)));
        Assert.Equal(expected.Select(e => e.Key), whole.Entries.Select(e => Text(e.Key)));
        Assert.Equal(expected.Select(e => e.Value), whole.Entries.Select(e => Text(e.Result.Value!)));
        Assert.Null(whole.ResumeKey);
        Assert.Equal(expected[299].Key, Text(first.ResumeKey!));
    }
}
