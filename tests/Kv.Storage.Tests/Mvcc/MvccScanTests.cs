using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using static Kv.Storage.Tests.Mvcc.MvccFixture;

namespace Kv.Storage.Tests.Mvcc;

public sealed class MvccScanTests : IDisposable
{
    private readonly MvccFixture _f = new();

    public void Dispose() => _f.Dispose();

    private MvccStore Mvcc => _f.Mvcc;

    private static string[] Keys(MvccScanPage page) =>
        page.Entries.Select(e => System.Text.Encoding.UTF8.GetString(e.Key)).ToArray();

    private void WriteAlphabet()
    {
        // a..j, each with versions at 10 and 20; e deleted at 15; g deleted at 25.
        _f.Batch(b =>
        {
            foreach (char c in "abcdefghij")
            {
                Mvcc.Put(b, B($"{c}"), B($"{c}10"), Ts(10));
                Mvcc.Put(b, B($"{c}"), B($"{c}20"), Ts(20));
            }
            Mvcc.Delete(b, B("e"), Ts(15));
            Mvcc.Delete(b, B("g"), Ts(25));
        });
    }

    [Fact]
    public void Scan_Forward_ReturnsVisibleValuesInOrder_SkippingTombstones()
    {
        WriteAlphabet();
        var page = Mvcc.Scan(KeySpan.All, Ts(17), 100);
        Assert.Equal(["a", "b", "c", "d", "f", "g", "h", "i", "j"], Keys(page));
        Assert.All(page.Entries, e => Assert.Equal(Ts(10), e.Result.VersionTimestamp));
        Assert.Null(page.ResumeKey);

        page = Mvcc.Scan(KeySpan.All, Ts(30), 100);
        Assert.Equal(["a", "b", "c", "d", "e", "f", "h", "i", "j"], Keys(page));
        Assert.Equal(B("e20"), page.Entries[4].Result.Value);
    }

    [Fact]
    public void Scan_Reverse_ReturnsTheSameKeysDescending()
    {
        WriteAlphabet();
        var page = Mvcc.Scan(new KeySpan(B("b"), B("i")), Ts(17), 100, reverse: true);
        Assert.Equal(["h", "g", "f", "d", "c", "b"], Keys(page));
        Assert.All(page.Entries, e => Assert.Equal(Ts(10), e.Result.VersionTimestamp));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    public void Scan_Paged_ResumesAfterTheLastKeyUntilExhausted(bool reverse, int limit)
    {
        WriteAlphabet();
        var span = new KeySpan(B("b"), B("j"));
        var keys = new List<string>();
        byte[]? resume = null;
        int pages = 0;
        do
        {
            var page = Mvcc.Scan(span, Ts(30), limit, reverse, resume);
            Assert.True(page.Entries.Count <= limit);
            keys.AddRange(Keys(page));
            resume = page.ResumeKey;
            Assert.True(++pages < 50);
        }
        while (resume is not null);
        string[] expected = ["b", "c", "d", "e", "f", "h", "i"];
        if (reverse) Array.Reverse(expected);
        Assert.Equal(expected, keys);
    }

    [Fact]
    public void Scan_SpanBounds_AreStartInclusiveEndExclusive_AndRespectZeroAndFFBytes()
    {
        byte[][] keys = [[0x00], [0x00, 0x00], [0x00, 0xFF], [0x01], [0x01, 0x00], [0xFF], [0xFF, 0x00], [0xFF, 0xFF, 0xFF]];
        _f.Batch(b =>
        {
            foreach (var k in keys) Mvcc.Put(b, k, k, Ts(3));
        });
        var all = Mvcc.Scan(KeySpan.All, Ts(3), 100);
        Assert.Equal(keys, all.Entries.Select(e => e.Key));
        Assert.All(all.Entries, e => Assert.Equal(e.Key, e.Result.Value));

        var middle = Mvcc.Scan(new KeySpan([0x00, 0x00], [0xFF]), Ts(3), 100);
        Assert.Equal(keys[1..5], middle.Entries.Select(e => e.Key));
        var middleReverse = Mvcc.Scan(new KeySpan([0x00, 0x00], [0xFF]), Ts(3), 100, reverse: true);
        Assert.Equal(keys[1..5].Reverse(), middleReverse.Entries.Select(e => e.Key));
    }

    [Fact]
    public void Scan_StagedVersions_AreReturnedAsEncounters_OnlyAtOrBelowReadTimestamp()
    {
        WriteAlphabet();
        _f.Batch(b =>
        {
            Mvcc.Stage(b, B("c"), TxnA, Ts(22), B("c-staged"));
            Mvcc.StageDelete(b, B("g"), TxnB, Ts(28));
            Mvcc.Stage(b, B("k"), TxnB, Ts(28), B("k-new"));
        });

        foreach (bool reverse in new[] { false, true })
        {
            var early = Mvcc.Scan(KeySpan.All, Ts(21), 100, reverse);
            Assert.All(early.Entries, e => Assert.Equal(MvccReadStatus.Value, e.Result.Status));

            var late = Mvcc.Scan(KeySpan.All, Ts(30), 100, reverse);
            var byKey = late.Entries.ToDictionary(e => System.Text.Encoding.UTF8.GetString(e.Key));
            Assert.Equal(MvccReadStatus.StagedVersionEncountered, byKey["c"].Result.Status);
            Assert.Equal(new StagedIntent(TxnA, Ts(22)), byKey["c"].Result.Staged);
            Assert.Equal(B("c20"), byKey["c"].Result.Value);
            // g's committed version is a tombstone, but its staged version is still reported.
            Assert.Equal(MvccReadStatus.StagedVersionEncountered, byKey["g"].Result.Status);
            Assert.Null(byKey["g"].Result.Value);
            Assert.Equal(MvccReadStatus.StagedVersionEncountered, byKey["k"].Result.Status);
            Assert.Equal(11, late.Entries.Count);
        }
    }

    [Fact]
    public void Scan_KeysWithManyVersions_SeeksPastThem_BothDirections()
    {
        _f.Batch(b =>
        {
            for (int k = 0; k < 20; k++)
                for (int v = 1; v <= 3 * k + 1; v++)
                    Mvcc.Put(b, B($"key{k:D2}"), B($"{k}@{v}"), Ts(v * 10));
        });
        foreach (var readAt in new[] { Ts(55), Ts(10), Timestamp.Max })
        {
            foreach (bool reverse in new[] { false, true })
            {
                var page = Mvcc.Scan(KeySpan.All, readAt, 100, reverse);
                var expected = Enumerable.Range(0, 20)
                    .Select(k => (k, v: Math.Min(3 * k + 1, (int)Math.Min(readAt.WallNanos / 10, int.MaxValue))))
                    .Select(x => $"{x.k}@{x.v}")
                    .ToList();
                if (reverse) expected.Reverse();
                Assert.Equal(expected, page.Entries.Select(e => System.Text.Encoding.UTF8.GetString(e.Result.Value!)));
            }
        }
        // Seeking past old versions means reading far fewer keys than the 590 versions stored.
        Assert.True(Mvcc.Scan(KeySpan.All, Timestamp.Max, 100).VersionsExamined < 300);
    }

    [Fact]
    public void Scan_UnderSnapshot_PagesSeeOneState()
    {
        WriteAlphabet();
        using var snapshot = _f.Node.Db.CreateSnapshot();
        var first = Mvcc.Scan(KeySpan.All, Ts(30), 3, snapshot: snapshot);
        Mvcc.Delete(B("h"), Ts(27));
        Mvcc.Put(B("hh"), B("new"), Ts(27));
        var second = Mvcc.Scan(KeySpan.All, Ts(30), 100, resumeKey: first.ResumeKey, snapshot: snapshot);
        Assert.Equal(["d", "e", "f", "h", "i", "j"], Keys(second));
        var live = Mvcc.Scan(KeySpan.All, Ts(30), 100, resumeKey: first.ResumeKey);
        Assert.Equal(["d", "e", "f", "hh", "i", "j"], Keys(live));
    }

    [Fact]
    public void Scan_EmptySpanOrNothingVisible_ReturnsAnEmptyFinalPage()
    {
        WriteAlphabet();
        var page = Mvcc.Scan(new KeySpan(B("x"), null), Timestamp.Max, 10);
        Assert.Empty(page.Entries);
        Assert.Null(page.ResumeKey);
        Assert.Empty(Mvcc.Scan(KeySpan.All, Ts(9), 10).Entries);
    }
}
