using Kv.Storage.Ranges;
using RocksDbSharp;
using static Kv.Storage.Tests.Ranges.TestKeys;

namespace Kv.Storage.Tests.Ranges;

public sealed class DeleteRangeDataTests
{
    [Fact]
    public void DeleteRange_BoundedSpan_RemovesExactlyTheSpan_WithOneTombstone()
    {
        using var node = new TempNodeStore();
        node.PutVersions("v", AroundBToC);
        var outside = node.DumpData(BToC, inside: false);
        Assert.Equal(7 * 3, node.DumpData(BToC).Count);

        using var batch = new WriteBatch();
        node.Ops.DeleteRangeData(batch, BToC);
        Assert.Equal(1, batch.Count());
        node.Store.Db.Write(batch, node.Store.SyncWrite);

        Assert.Empty(node.DumpData(BToC));
        Assert.Equal(outside, node.DumpData());
    }

    [Fact]
    public void DeleteRange_UnboundedSpan_RemovesEverythingFromStart_IncludingFFKeys()
    {
        using var node = new TempNodeStore();
        node.PutVersions("v", AroundBToC);
        var span = new RangeSpan(K("b"), []);
        var below = node.DumpData(span, inside: false);
        node.Store.FlushAll(); // the tombstone must also cover data already in SST files

        using var batch = new WriteBatch();
        node.Ops.DeleteRangeData(batch, span);
        node.Store.Db.Write(batch, node.Store.SyncWrite);

        Assert.Equal(below, node.DumpData());
        Assert.Equal(5 * 3, below.Count);
    }

    [Fact]
    public void DeleteRange_SpanStartingAtKeyWithZeroByte_KeepsThePlainKeyBelowIt()
    {
        using var node = new TempNodeStore();
        node.PutVersions("v", AroundBToC);
        var span = new RangeSpan(K(0x62, 0x00), K(0x62, 0xFF));
        var expected = node.DumpData(span, inside: false);

        using var batch = new WriteBatch();
        node.Ops.DeleteRangeData(batch, span);
        node.Store.Db.Write(batch, node.Store.SyncWrite);

        Assert.Equal(expected, node.DumpData());
        Assert.Contains(node.DumpData(k => k.UserKey.AsSpan().SequenceEqual(K("b"))), _ => true);
        Assert.Contains(node.DumpData(k => k.UserKey.AsSpan().SequenceEqual(K(0x62, 0xFF))), _ => true);
        Assert.Empty(node.DumpData(k => k.UserKey.AsSpan().SequenceEqual(K(0x62, 0x00, 0xFF))));
    }

    [Fact]
    public void DeleteRange_UnboundedSpanWithNoData_AddsNothing()
    {
        using var node = new TempNodeStore();
        node.PutVersions("v", K("a"));
        using var batch = new WriteBatch();
        node.Ops.DeleteRangeData(batch, new RangeSpan(K("b"), []));
        Assert.Equal(0, batch.Count());
    }

    [Fact]
    public void DeleteRange_WholeKeySpace_EmptiesTheDataFamilyOnly()
    {
        using var node = new TempNodeStore();
        node.PutVersions("v", AroundBToC);
        node.Store.Db.Put(K("meta-key"), K("meta-value"), node.Store.Meta);

        using var batch = new WriteBatch();
        node.Ops.DeleteRangeData(batch, RangeSpan.All);
        node.Store.Db.Write(batch, node.Store.SyncWrite);

        Assert.Empty(node.DumpData());
        Assert.Equal(K("meta-value"), node.Store.Db.Get(K("meta-key"), node.Store.Meta));
    }
}
