using Kv.Storage.Encoding;
using Kv.Storage.Ranges;
using RocksDbSharp;
using static Kv.Storage.Tests.Ranges.TestKeys;

namespace Kv.Storage.Tests.Ranges;

public sealed class ApproximateSizeTests
{
    private const int ValueBytes = 1024;
    private const int KeyCount = 200;

    private static void FillB(TempNodeStore node)
    {
        var random = new Random(42);
        using var batch = new WriteBatch();
        for (int i = 0; i < KeyCount; i++)
        {
            var value = new byte[ValueBytes];
            random.NextBytes(value); // incompressible, so the on-disk size tracks the data size
            batch.Put(KeyEncoding.Committed(K($"b{i:D4}"), new Timestamp(1, 0)), value, node.Store.Data);
        }
        node.Store.Db.Write(batch, node.Store.SyncWrite);
    }

    [Fact]
    public void ApproximateSize_TracksDataInFilesAndMemtables_AndIsZeroElsewhere()
    {
        using var node = new TempNodeStore();
        FillB(node);
        long dataBytes = KeyCount * ValueBytes;

        long inMemtable = node.Ops.ApproximateSizeBytes(BToC);
        node.Store.FlushAll();
        long inFiles = node.Ops.ApproximateSizeBytes(BToC);

        Assert.InRange(inMemtable, dataBytes / 4, dataBytes * 4);
        Assert.InRange(inFiles, dataBytes / 2, dataBytes * 2);
        Assert.InRange(node.Ops.ApproximateSizeBytes(new RangeSpan(K("b"), [])), dataBytes / 2, dataBytes * 2);
        Assert.Equal(0, node.Ops.ApproximateSizeBytes(new RangeSpan(K("x"), [])));
        Assert.InRange(node.Ops.ApproximateSizeBytes(new RangeSpan(K("x"), K("y"))), 0, 16 * 1024);
    }
}
