using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using RocksDbSharp;
using static Kv.Storage.Tests.Mvcc.MvccFixture;

namespace Kv.Storage.Tests.Mvcc;

public sealed class MvccStagedTests : IDisposable
{
    private readonly MvccFixture _f = new();

    public void Dispose() => _f.Dispose();

    private MvccStore Mvcc => _f.Mvcc;

    [Fact]
    public void TryGetStaged_ReportsOwnerTimestampKindAndValue()
    {
        Assert.False(Mvcc.TryGetStaged(B("k"), out _));
        _f.Batch(b =>
        {
            Mvcc.Stage(b, B("k"), TxnA, Ts(7, 3), B("value"));
            Mvcc.StageDelete(b, B("gone"), TxnB, Ts(8));
        });

        Assert.True(Mvcc.TryGetStaged(B("k"), out var staged));
        Assert.Equal(TxnA, staged.TxnId);
        Assert.Equal(Ts(7, 3), staged.ProvisionalTimestamp);
        Assert.False(staged.IsTombstone);
        Assert.Equal(B("value"), staged.Value);

        Assert.True(Mvcc.TryGetStaged(B("gone"), out var tombstone));
        Assert.True(tombstone.IsTombstone);
        Assert.Empty(tombstone.Value);
        Assert.False(Mvcc.TryGetStaged(B("k\0"), out _));
    }

    [Fact]
    public void Stage_BySameTransactionAgain_Overwrites()
    {
        _f.Batch(b => Mvcc.Stage(b, B("k"), TxnA, Ts(7), B("first")));
        _f.Batch(b => Mvcc.Stage(b, B("k"), TxnA, Ts(9), B("second")));
        Assert.True(Mvcc.TryGetStaged(B("k"), out var staged));
        Assert.Equal((Ts(9), "second"), (staged.ProvisionalTimestamp, System.Text.Encoding.UTF8.GetString(staged.Value)));
    }

    [Fact]
    public void Publish_TurnsOwnStagedVersionsIntoCommittedOnes_InTheOneBatch()
    {
        Mvcc.Put(B("a"), B("a-old"), Ts(5));
        _f.Batch(b =>
        {
            Mvcc.Stage(b, B("a"), TxnA, Ts(10), B("a-new"));
            Mvcc.StageDelete(b, B("b"), TxnA, Ts(10));
            Mvcc.Stage(b, B("c"), TxnB, Ts(10), B("c-other"));
        });
        Mvcc.Put(B("b"), B("b-old"), Ts(5));

        using var batch = new WriteBatch();
        int published = Mvcc.Publish(batch, [B("a"), B("b"), B("c"), B("missing")], TxnA, Ts(12));
        Assert.Equal(2, published);

        // Nothing is visible until the batch is written: the batch is the unit of atomicity.
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, Mvcc.Get(B("a"), Ts(12)).Status);
        Assert.True(Mvcc.TryGetStaged(B("a"), out _));
        Mvcc.Write(batch);

        MvccReadTests.AssertValue(Mvcc.Get(B("a"), Ts(12)), "a-new", Ts(12));
        MvccReadTests.AssertValue(Mvcc.Get(B("a"), Ts(11)), "a-old", Ts(5));
        var b = Mvcc.Get(B("b"), Ts(12));
        Assert.Equal((MvccReadStatus.Absent, Ts(12)), (b.Status, b.VersionTimestamp));
        Assert.False(Mvcc.TryGetStaged(B("a"), out _));
        Assert.False(Mvcc.TryGetStaged(B("b"), out _));
        // Another transaction's staged version is untouched.
        Assert.True(Mvcc.TryGetStaged(B("c"), out var other));
        Assert.Equal(TxnB, other.TxnId);
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, Mvcc.Get(B("c"), Ts(12)).Status);
    }

    [Fact]
    public void Publish_Twice_IsHarmless()
    {
        _f.Batch(b => Mvcc.Stage(b, B("a"), TxnA, Ts(10), B("v")));
        _f.Batch(b => Assert.Equal(1, Mvcc.Publish(b, [B("a")], TxnA, Ts(11))));
        _f.Batch(b => Assert.Equal(0, Mvcc.Publish(b, [B("a")], TxnA, Ts(11))));
        MvccReadTests.AssertValue(Mvcc.Get(B("a"), Timestamp.Max), "v", Ts(11));
    }

    [Fact]
    public void Publish_OverASpan_FindsEveryOwnStagedVersionAmongManyCommittedOnes()
    {
        _f.Batch(b =>
        {
            for (int k = 0; k < 50; k++)
            {
                for (int v = 1; v <= k % 13; v++) Mvcc.Put(b, B($"k{k:D2}"), B($"old{v}"), Ts(v));
                if (k % 3 == 0) Mvcc.Stage(b, B($"k{k:D2}"), k % 2 == 0 ? TxnA : TxnB, Ts(20), B($"new{k}"));
            }
        });
        using var batch = new WriteBatch();
        Assert.Equal(9, Mvcc.Publish(batch, new KeySpan(B("k"), B("l")), TxnA, Ts(30)));
        Mvcc.Write(batch);

        for (int k = 0; k < 50; k++)
        {
            var read = Mvcc.Get(B($"k{k:D2}"), Ts(30));
            if (k % 6 == 0) MvccReadTests.AssertValue(read, $"new{k}", Ts(30));
            else if (k % 3 == 0) Assert.Equal(TxnB, read.Staged.TxnId);
            else Assert.Equal(k % 13 == 0 ? MvccReadStatus.Absent : MvccReadStatus.Value, read.Status);
        }
    }

    [Fact]
    public void RemoveStaged_DeletesOnlyOwnStagedVersions_AndLeavesCommittedOnes()
    {
        Mvcc.Put(B("a"), B("a-old"), Ts(5));
        _f.Batch(b =>
        {
            Mvcc.Stage(b, B("a"), TxnA, Ts(10), B("a-new"));
            Mvcc.Stage(b, B("b"), TxnB, Ts(10), B("b-other"));
            Mvcc.Stage(b, B("c"), TxnA, Ts(10), B("c-new"));
        });

        _f.Batch(b => Assert.Equal(1, Mvcc.RemoveStaged(b, [B("a"), B("b")], TxnA)));
        _f.Batch(b => Assert.Equal(1, Mvcc.RemoveStaged(b, KeySpan.All, TxnA)));

        MvccReadTests.AssertValue(Mvcc.Get(B("a"), Timestamp.Max), "a-old", Ts(5));
        Assert.False(Mvcc.TryGetStaged(B("a"), out _));
        Assert.False(Mvcc.TryGetStaged(B("c"), out _));
        Assert.Equal(MvccReadStatus.Absent, Mvcc.Get(B("c"), Timestamp.Max).Status);
        Assert.True(Mvcc.TryGetStaged(B("b"), out var other));
        Assert.Equal(TxnB, other.TxnId);
    }

    [Fact]
    public void Publish_AbandonedBatch_ChangesNothing()
    {
        _f.Batch(b => Mvcc.Stage(b, B("a"), TxnA, Ts(10), B("v")));
        using (var batch = new WriteBatch())
        {
            Assert.Equal(1, Mvcc.Publish(batch, [B("a")], TxnA, Ts(11)));
            Assert.Equal(2, batch.Count());
        }
        Assert.True(Mvcc.TryGetStaged(B("a"), out _));
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, Mvcc.Get(B("a"), Timestamp.Max).Status);
    }
}
