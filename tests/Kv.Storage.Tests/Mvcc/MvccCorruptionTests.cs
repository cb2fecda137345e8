using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using static Kv.Storage.Tests.Mvcc.MvccFixture;

namespace Kv.Storage.Tests.Mvcc;

public sealed class MvccCorruptionTests : IDisposable
{
    private readonly MvccFixture _f = new();

    public void Dispose() => _f.Dispose();

    private MvccStore Mvcc => _f.Mvcc;

    private void PutRaw(byte[] encodedKey, byte[] value) =>
        _f.Node.Db.Put(encodedKey, value, _f.Node.Data, _f.Node.SyncWrite);

    private byte[] GetRaw(byte[] encodedKey) => _f.Node.Db.Get(encodedKey, _f.Node.Data, _f.Node.VerifiedReads);

    [Fact]
    public void Get_ValueWithAFlippedBit_ThrowsNamingTheKey_AndNeverReturnsIt()
    {
        byte[] key = [(byte)'u', 0x00, (byte)'1', 0xFF];
        Mvcc.Put(key, B("precious"), Ts(10));
        var raw = GetRaw(KeyEncoding.Committed(key, Ts(10)));
        raw[3] ^= 0x04;
        PutRaw(KeyEncoding.Committed(key, Ts(10)), raw);

        var e = Assert.Throws<StorageCorruptionException>(() => Mvcc.Get(key, Ts(10)));
        Assert.Contains("\"u\\x001\\xFF\"", e.Message);
        Assert.Contains("checksum", e.Message);
        Assert.Contains("10.0", e.Message);
        Assert.Throws<StorageCorruptionException>(() => Mvcc.Scan(KeySpan.All, Ts(10), 10));
        Assert.Throws<StorageCorruptionException>(() => Mvcc.Scan(KeySpan.All, Ts(10), 10, reverse: true));
        // A read below the corrupt version never touches it.
        Assert.Equal(MvccReadStatus.Absent, Mvcc.Get(key, Ts(9)).Status);
    }

    [Fact]
    public void Get_GarbageWrittenDirectly_ThrowsNamingTheKey()
    {
        PutRaw(KeyEncoding.Committed(B("user/42"), Ts(5)), [0x01, 0xde, 0xad]);
        var e = Assert.Throws<StorageCorruptionException>(() => Mvcc.Get(B("user/42"), Ts(6)));
        Assert.Contains("\"user/42\"", e.Message);

        PutRaw(KeyEncoding.Committed(B("short"), Ts(5)), [0x01]);
        Assert.Contains("\"short\"", Assert.Throws<StorageCorruptionException>(() => Mvcc.Get(B("short"), Ts(6))).Message);
    }

    [Fact]
    public void Get_ValidValueCopiedUnderAnotherKey_FailsItsChecksum()
    {
        Mvcc.Put(B("a"), B("mine"), Ts(5));
        PutRaw(KeyEncoding.Committed(B("b"), Ts(5)), GetRaw(KeyEncoding.Committed(B("a"), Ts(5))));
        PutRaw(KeyEncoding.Committed(B("a"), Ts(6)), GetRaw(KeyEncoding.Committed(B("a"), Ts(5))));

        Assert.Contains("\"b\"", Assert.Throws<StorageCorruptionException>(() => Mvcc.Get(B("b"), Ts(5))).Message);
        Assert.Throws<StorageCorruptionException>(() => Mvcc.Get(B("a"), Ts(6)));
    }

    [Fact]
    public void StagedValue_Corrupt_ThrowsFromReadsPublishAndTryGetStaged()
    {
        _f.Batch(b => Mvcc.Stage(b, B("s"), TxnA, Ts(5), B("staged")));
        var raw = GetRaw(KeyEncoding.Staged(B("s")));
        raw[0] ^= 0x80;
        PutRaw(KeyEncoding.Staged(B("s")), raw);

        var e = Assert.Throws<StorageCorruptionException>(() => Mvcc.Get(B("s"), Ts(6)));
        Assert.Contains("\"s\"", e.Message);
        Assert.Contains("staged", e.Message);
        Assert.Throws<StorageCorruptionException>(() => Mvcc.TryGetStaged(B("s"), out _));
        using var batch = new RocksDbSharp.WriteBatch();
        Assert.Throws<StorageCorruptionException>(() => Mvcc.Publish(batch, [B("s")], TxnA, Ts(7)));
        Assert.Throws<StorageCorruptionException>(() => Mvcc.RemoveStaged(batch, KeySpan.All, TxnA));
        Assert.Equal(0, batch.Count());
    }

    [Fact]
    public void MalformedEncodedKey_InTheDataColumnFamily_IsReportedAsCorruption()
    {
        Mvcc.Put(B("m"), B("ok"), Ts(1));
        // A version suffix of the wrong length.
        PutRaw([.. KeyEncoding.UserKeyPrefix(B("m")), 0x01, 0x02], [0x01]);
        Assert.Throws<StorageCorruptionException>(() => Mvcc.Scan(KeySpan.All, Timestamp.Max, 10));
        Assert.Throws<StorageCorruptionException>(() => Mvcc.CollectGarbage(KeySpan.All, Ts(1)));
    }

    [Fact]
    public void Scan_CorruptDataBlockOnDisk_ThrowsInsteadOfEndingEarly()
    {
        var value = new byte[200];
        new Random(7).NextBytes(value);
        _f.Batch(b =>
        {
            for (int i = 0; i < 2000; i++) Mvcc.Put(b, B($"key{i:D5}"), value, Ts(1));
        });
        _f.Node.FlushAll();
        _f.Mvcc.Dispose();
        _f.Node.Dispose();
        string sst = Directory.GetFiles(_f.Directory, "*.sst").OrderByDescending(p => new FileInfo(p).Length).First();
        using (var file = new FileStream(sst, FileMode.Open, FileAccess.ReadWrite))
        {
            // Damage the middle of the data blocks, well away from the footer, index and properties.
            file.Position = file.Length / 3;
            var bytes = new byte[64];
            file.ReadExactly(bytes);
            for (int i = 0; i < bytes.Length; i++) bytes[i] ^= 0x5A;
            file.Position = file.Length / 3;
            file.Write(bytes);
        }
        _f.Reopen();

        var e = Assert.Throws<StorageCorruptionException>(() =>
        {
            byte[]? resume = null;
            do resume = Mvcc.Scan(KeySpan.All, Ts(1), 500, resumeKey: resume).ResumeKey;
            while (resume is not null);
        });
        Assert.Contains("data column family", e.Message);
    }
}
