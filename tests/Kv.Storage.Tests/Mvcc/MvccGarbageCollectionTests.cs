using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using static Kv.Storage.Tests.Mvcc.MvccFixture;

namespace Kv.Storage.Tests.Mvcc;

public sealed class MvccGarbageCollectionTests : IDisposable
{
    private readonly MvccFixture _f = new();

    public void Dispose() => _f.Dispose();

    private MvccStore Mvcc => _f.Mvcc;

    [Fact]
    public void CollectGarbage_KeepsNewestVersionAtOrBelowThreshold_AndEverythingAbove()
    {
        _f.Batch(b =>
        {
            for (int v = 1; v <= 5; v++) Mvcc.Put(b, B("k"), B($"v{v}"), Ts(v * 10));
        });

        var counts = Mvcc.CollectGarbage(KeySpan.All, Ts(35));
        Assert.Equal(new GarbageCollectionCounts(1, 2, 0), counts);

        MvccReadTests.AssertValue(Mvcc.Get(B("k"), Ts(35)), "v3", Ts(30));
        MvccReadTests.AssertValue(Mvcc.Get(B("k"), Ts(45)), "v4", Ts(40));
        MvccReadTests.AssertValue(Mvcc.Get(B("k"), Timestamp.Max), "v5", Ts(50));
        // Below the threshold the history is gone.
        Assert.Equal(MvccReadStatus.Absent, Mvcc.Get(B("k"), Ts(25)).Status);
    }

    [Fact]
    public void CollectGarbage_DropsATombstoneThatIsTheNewestAtOrBelowThreshold()
    {
        _f.Batch(b =>
        {
            Mvcc.Put(b, B("dead"), B("v1"), Ts(10));
            Mvcc.Delete(b, B("dead"), Ts(20));
            Mvcc.Put(b, B("revived"), B("v1"), Ts(10));
            Mvcc.Delete(b, B("revived"), Ts(20));
            Mvcc.Put(b, B("revived"), B("v3"), Ts(40));
        });

        var counts = Mvcc.CollectGarbage(KeySpan.All, Ts(30));
        Assert.Equal(new GarbageCollectionCounts(2, 4, 2), counts);
        Assert.Empty(Mvcc.Scan(new KeySpan(B("dead"), B("deae")), Timestamp.Max, 10).Entries);
        Assert.Equal(MvccReadStatus.Absent, Mvcc.Get(B("dead"), Ts(30)).Status);
        Assert.Equal(Timestamp.Zero, Mvcc.Get(B("dead"), Ts(30)).VersionTimestamp);
        MvccReadTests.AssertValue(Mvcc.Get(B("revived"), Ts(40)), "v3", Ts(40));
        Assert.Equal(MvccReadStatus.Absent, Mvcc.Get(B("revived"), Ts(30)).Status);
    }

    [Fact]
    public void CollectGarbage_LeavesStagedVersionsAndKeysOutsideTheSpan()
    {
        _f.Batch(b =>
        {
            foreach (string k in new[] { "a", "b", "c" })
                for (int v = 1; v <= 3; v++) Mvcc.Put(b, B(k), B($"{k}{v}"), Ts(v));
            Mvcc.Stage(b, B("b"), TxnA, Ts(2), B("b-staged"));
            Mvcc.Stage(b, B("bb"), TxnA, Ts(2), B("bb-staged"));
        });

        using var batch = new RocksDbSharp.WriteBatch();
        var counts = Mvcc.CollectGarbage(new KeySpan(B("b"), B("c")), Ts(10), batch);
        Assert.Equal(new GarbageCollectionCounts(1, 2, 0), counts);
        Assert.Equal(2, batch.Count());
        Mvcc.Write(batch);

        Assert.True(Mvcc.TryGetStaged(B("b"), out _));
        Assert.True(Mvcc.TryGetStaged(B("bb"), out _));
        var b = Mvcc.Get(B("b"), Ts(1));
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, Mvcc.Get(B("b"), Ts(3)).Status);
        Assert.Equal(MvccReadStatus.Absent, b.Status);
        MvccReadTests.AssertValue(Mvcc.Get(B("a"), Ts(1)), "a1", Ts(1));
        MvccReadTests.AssertValue(Mvcc.Get(B("c"), Ts(1)), "c1", Ts(1));
    }

    [Fact]
    public void CollectGarbage_ManyVersionsAboveThreshold_AreKept()
    {
        _f.Batch(b =>
        {
            for (int v = 1; v <= 100; v++) Mvcc.Put(b, B("k"), B($"v{v}"), Ts(v));
        });
        var counts = Mvcc.CollectGarbage(KeySpan.All, Ts(10));
        Assert.Equal(new GarbageCollectionCounts(1, 9, 0), counts);
        for (int v = 10; v <= 100; v++) MvccReadTests.AssertValue(Mvcc.Get(B("k"), Ts(v)), $"v{v}", Ts(v));
        Assert.Equal(new GarbageCollectionCounts(1, 0, 0), Mvcc.CollectGarbage(KeySpan.All, Ts(10)));
    }
}
