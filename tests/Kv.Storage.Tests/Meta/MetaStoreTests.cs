using Kv.Storage.Meta;
using Kv.Storage.Tests.Ranges;
using RocksDbSharp;

namespace Kv.Storage.Tests.Meta;

public sealed class MetaStoreTests
{
    private static byte[] B(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private static void Write(TempNodeStore node, Action<WriteBatch> fill)
    {
        using var batch = new WriteBatch();
        fill(batch);
        node.Store.Db.Write(batch, node.Store.SyncWrite);
    }

    [Fact]
    public void PutGetDelete_RoundTrip()
    {
        using var node = new TempNodeStore();
        var meta = new MetaStore(node.Store);
        Write(node, b =>
        {
            meta.Put(b, MetaKeys.NodeId, B("node-7"));
            meta.Put(b, MetaKeys.Range(3), []);
        });

        Assert.True(meta.TryGet(MetaKeys.NodeId, out var nodeId));
        Assert.Equal(B("node-7"), nodeId);
        Assert.True(meta.TryGet(MetaKeys.Range(3), out var empty));
        Assert.Empty(empty);
        Assert.False(meta.TryGet(MetaKeys.Range(4), out var missing));
        Assert.Null(missing);

        Write(node, b => meta.Delete(b, MetaKeys.NodeId));
        Assert.False(meta.TryGet(MetaKeys.NodeId, out _));
    }

    [Fact]
    public void List_ReturnsOnlyThePrefix_InIdOrder()
    {
        using var node = new TempNodeStore();
        var meta = new MetaStore(node.Store);
        Write(node, b =>
        {
            foreach (ulong id in new ulong[] { 10, 2, ulong.MaxValue, 0 }) meta.Put(b, MetaKeys.Range(id), B($"descriptor {id}"));
            meta.Put(b, MetaKeys.NodeId, B("node-7"));
            meta.Put(b, "rangex", B("not a range"));
        });

        var ranges = meta.List(MetaKeys.RangePrefix);

        Assert.Equal(
            new[] { MetaKeys.Range(0), MetaKeys.Range(2), MetaKeys.Range(10), MetaKeys.Range(ulong.MaxValue) },
            ranges.Select(r => r.Key));
        Assert.Equal(B("descriptor 10"), ranges[2].Value);
        Assert.Equal("range/00000000000000000010", MetaKeys.Range(10));
        Assert.Equal(6, meta.List("").Count);
    }

    [Fact]
    public void FlippedBit_IsReportedNamingTheKey()
    {
        using var node = new TempNodeStore();
        var meta = new MetaStore(node.Store);
        string key = MetaKeys.Range(5);
        Write(node, b => meta.Put(b, key, B("descriptor")));
        byte[] stored = node.Store.Db.Get(B(key), node.Store.Meta);
        stored[3] ^= 0x04;
        node.Store.Db.Put(B(key), stored, node.Store.Meta);

        var error = Assert.Throws<StorageCorruptionException>(() => meta.TryGet(key, out _));
        Assert.Contains(key, error.Message);
        Assert.Throws<StorageCorruptionException>(() => meta.List(MetaKeys.RangePrefix));
    }

    [Fact]
    public void ValueUnderWrongKey_OrTooShort_IsReported()
    {
        using var node = new TempNodeStore();
        var meta = new MetaStore(node.Store);
        Write(node, b => meta.Put(b, MetaKeys.Range(1), B("descriptor of 1")));
        // A valid stored value copied under another key: the checksum covers the key too.
        node.Store.Db.Put(B(MetaKeys.Range(2)), node.Store.Db.Get(B(MetaKeys.Range(1)), node.Store.Meta), node.Store.Meta);
        node.Store.Db.Put(B(MetaKeys.NodeId), new byte[] { 0x01, 0x02 }, node.Store.Meta);

        Assert.Contains(MetaKeys.Range(2), Assert.Throws<StorageCorruptionException>(() => meta.TryGet(MetaKeys.Range(2), out _)).Message);
        Assert.Contains(MetaKeys.NodeId, Assert.Throws<StorageCorruptionException>(() => meta.TryGet(MetaKeys.NodeId, out _)).Message);
        Assert.True(meta.TryGet(MetaKeys.Range(1), out _));
    }

    [Fact]
    public void VerifiedValueThatDoesNotDecode_IsReportedNamingTheKey()
    {
        using var node = new TempNodeStore();
        var meta = new MetaStore(node.Store);
        string key = MetaKeys.Range(7);
        Write(node, b => meta.Put(b, key, new byte[] { 0x10, 0x00, 0x00 }));
        Assert.True(meta.TryGet(key, out var value)); // the checksum holds: only decoding can tell

        var error = Assert.Throws<StorageCorruptionException>(() =>
            MetaStore.Decode(key, value, v => v[1] == 0 ? throw new FormatException("invalid tag (zero)") : v.Length));
        Assert.Contains(key, error.Message);
        Assert.Contains("invalid tag (zero)", error.Message);
        Assert.Equal(3, MetaStore.Decode(key, value, v => v.Length));
    }

    [Fact]
    public void EmptyKey_IsRefused()
    {
        using var node = new TempNodeStore();
        var meta = new MetaStore(node.Store);
        using var batch = new WriteBatch();
        Assert.Throws<ArgumentException>(() => meta.Put(batch, "", B("x")));
    }
}
