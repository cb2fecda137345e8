using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using static Kv.Storage.Tests.Mvcc.MvccFixture;

namespace Kv.Storage.Tests.Mvcc;

public sealed class MvccReadTests : IDisposable
{
    private readonly MvccFixture _f = new();

    public void Dispose() => _f.Dispose();

    private MvccStore Mvcc => _f.Mvcc;

    [Fact]
    public void Get_AtTimestampsBetweenVersions_ReturnsNewestAtOrBelow()
    {
        Mvcc.Put(B("k"), B("v10"), Ts(10));
        Mvcc.Put(B("k"), B("v20"), Ts(20));
        Mvcc.Put(B("k"), B("v20.5"), Ts(20, 5));

        Assert.Equal(MvccReadStatus.Absent, Mvcc.Get(B("k"), Ts(9)).Status);
        Assert.Equal(Timestamp.Zero, Mvcc.Get(B("k"), Ts(9)).VersionTimestamp);
        AssertValue(Mvcc.Get(B("k"), Ts(10)), "v10", Ts(10));
        AssertValue(Mvcc.Get(B("k"), Ts(19, 99)), "v10", Ts(10));
        AssertValue(Mvcc.Get(B("k"), Ts(20, 4)), "v20", Ts(20));
        AssertValue(Mvcc.Get(B("k"), Ts(20, 5)), "v20.5", Ts(20, 5));
        AssertValue(Mvcc.Get(B("k"), Timestamp.Max), "v20.5", Ts(20, 5));
    }

    [Fact]
    public void Get_ManyNewerVersions_SeeksToTheOneAtOrBelow()
    {
        _f.Batch(b =>
        {
            for (int i = 1; i <= 200; i++) Mvcc.Put(b, B("k"), B($"v{i}"), Ts(i));
        });
        for (int i = 1; i <= 200; i += 7) AssertValue(Mvcc.Get(B("k"), Ts(i, 1)), $"v{i}", Ts(i));
    }

    [Fact]
    public void Get_Tombstone_ReadsAbsentWithItsTimestamp_AndOlderVersionsStayVisibleBelowIt()
    {
        Mvcc.Put(B("k"), B("v1"), Ts(10));
        Mvcc.Delete(B("k"), Ts(20));
        Mvcc.Put(B("k"), B("v3"), Ts(30));

        AssertValue(Mvcc.Get(B("k"), Ts(15)), "v1", Ts(10));
        var deleted = Mvcc.Get(B("k"), Ts(25));
        Assert.Equal(MvccReadStatus.Absent, deleted.Status);
        Assert.Null(deleted.Value);
        Assert.Equal(Ts(20), deleted.VersionTimestamp);
        AssertValue(Mvcc.Get(B("k"), Ts(35)), "v3", Ts(30));
    }

    [Fact]
    public void Get_KeyNeverWritten_IsAbsent_EvenBetweenNeighbours()
    {
        Mvcc.Put(B("a"), B("1"), Ts(1));
        Mvcc.Put(B("c"), B("3"), Ts(1));
        Assert.Equal(default, Mvcc.Get(B("b"), Timestamp.Max));
        Assert.Equal(default, Mvcc.Get(B("a\0"), Timestamp.Max));
        Assert.Equal(default, Mvcc.Get(B("d"), Timestamp.Max));
    }

    [Fact]
    public void Get_KeysWithZeroAndFFBytes_AreDistinct()
    {
        byte[][] keys = [[0x00], [0x00, 0x00], [0x00, 0xFF], [0xFF], [0xFF, 0x00], [0x01, 0x00, 0x01], [0x01], [0x00, 0x01]];
        for (int i = 0; i < keys.Length; i++) Mvcc.Put(keys[i], [(byte)i], Ts(5));
        for (int i = 0; i < keys.Length; i++)
        {
            var read = Mvcc.Get(keys[i], Ts(5));
            Assert.Equal(MvccReadStatus.Value, read.Status);
            Assert.Equal(new[] { (byte)i }, read.Value);
        }
    }

    [Fact]
    public void Get_AfterAWrite_SeesIt_ThoughIteratorsAreReused()
    {
        for (int i = 1; i <= 20; i++)
        {
            Mvcc.Put(B("k"), B($"v{i}"), Ts(i));
            AssertValue(Mvcc.Get(B("k"), Timestamp.Max), $"v{i}", Ts(i));
        }
    }

    [Fact]
    public void Get_UnderSnapshot_SeesTheStateWhenTheSnapshotWasTaken()
    {
        Mvcc.Put(B("k"), B("old"), Ts(10));
        using var snapshot = _f.Node.Db.CreateSnapshot();
        Mvcc.Put(B("k"), B("new"), Ts(20));
        _f.Batch(b => Mvcc.Stage(b, B("k"), TxnA, Ts(25), B("staged")));

        AssertValue(Mvcc.Get(B("k"), Timestamp.Max, snapshot), "old", Ts(10));
        Assert.False(Mvcc.TryGetStaged(B("k"), out _, snapshot));
        AssertValue(Mvcc.Get(B("k"), Ts(22)), "new", Ts(20));
    }

    [Fact]
    public void Get_StagedVersionAtOrBelowReadTimestamp_IsReportedWithOwnerAndCommittedValueBelow()
    {
        Mvcc.Put(B("k"), B("committed"), Ts(10));
        _f.Batch(b => Mvcc.Stage(b, B("k"), TxnA, Ts(20, 1), B("staged")));

        var read = Mvcc.Get(B("k"), Ts(20, 1));
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, read.Status);
        Assert.Equal(new StagedIntent(TxnA, Ts(20, 1)), read.Staged);
        Assert.Equal(B("committed"), read.Value);
        Assert.Equal(Ts(10), read.VersionTimestamp);
    }

    [Fact]
    public void Get_StagedVersionAboveReadTimestamp_IsInvisible()
    {
        Mvcc.Put(B("k"), B("committed"), Ts(10));
        _f.Batch(b => Mvcc.StageDelete(b, B("k"), TxnA, Ts(20)));

        var read = Mvcc.Get(B("k"), Ts(19, 9));
        Assert.Equal(MvccReadStatus.Value, read.Status);
        Assert.Equal(default, read.Staged);
        AssertValue(read, "committed", Ts(10));
    }

    [Fact]
    public void Get_StagedVersionOnKeyWithoutCommittedVersions_IsReportedWithNoValue()
    {
        _f.Batch(b => Mvcc.Stage(b, B("k"), TxnB, Ts(5), B("x")));
        var read = Mvcc.Get(B("k"), Ts(5));
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, read.Status);
        Assert.Null(read.Value);
        Assert.Equal(Timestamp.Zero, read.VersionTimestamp);
        Assert.Equal(TxnB, read.Staged.TxnId);
    }

    [Fact]
    public void Validation_RejectsEmptyKeys_NonPositiveTimestamps_EmptyTxnIds()
    {
        Assert.Throws<ArgumentException>(() => Mvcc.Put([], B("v"), Ts(1)));
        Assert.Throws<ArgumentException>(() => Mvcc.Get([], Ts(1)));
        Assert.Throws<ArgumentException>(() => Mvcc.Put(new byte[MvccStore.UserKeyBytesMax + 1], B("v"), Ts(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mvcc.Put(B("k"), B("v"), Timestamp.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mvcc.Put(B("k"), B("v"), new Timestamp(-5, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mvcc.Delete(B("k"), new Timestamp(5, -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mvcc.Get(B("k"), Timestamp.Zero));
        using var batch = new RocksDbSharp.WriteBatch();
        Assert.Throws<ArgumentException>(() => Mvcc.Stage(batch, B("k"), TxnId.Empty, Ts(1), B("v")));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mvcc.Scan(KeySpan.All, Ts(1), 0));
        Assert.Throws<ArgumentException>(() => new KeySpan(B("b"), B("a")));
        Assert.Throws<ArgumentException>(() => new KeySpan(B("a"), B("a")));
        Assert.Throws<ArgumentException>(() => Mvcc.Scan(new KeySpan(B("a"), B("c")), Ts(1), 1, resumeKey: B("c")));
        Assert.Equal(0, batch.Count());
    }

    [Fact]
    public void Get_EmptyValue_IsAValueNotATombstone()
    {
        Mvcc.Put(B("k"), [], Ts(1));
        var read = Mvcc.Get(B("k"), Ts(1));
        Assert.Equal(MvccReadStatus.Value, read.Status);
        Assert.Empty(read.Value!);
    }

    internal static void AssertValue(MvccReadResult read, string value, Timestamp version)
    {
        Assert.Equal(MvccReadStatus.Value, read.Status);
        Assert.Equal(value, System.Text.Encoding.UTF8.GetString(read.Value!));
        Assert.Equal(version, read.VersionTimestamp);
    }
}
