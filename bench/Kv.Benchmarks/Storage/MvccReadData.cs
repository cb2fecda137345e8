using Kv.Storage;
using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using RocksDbSharp;

namespace Kv.Benchmarks.Storage;

/// <summary>
/// The data the MVCC read measures run on (<see cref="MvccReadBenchmark"/>, <see cref="MvccReadRunner"/>): 20,000
/// keys of 256-byte values with a given number of committed versions each, flushed, block cache warm; and the
/// measured operations. Deletes its directory on dispose.
/// </summary>
internal sealed class MvccReadData : IDisposable
{
    public const int Keys = 20_000;
    public const int ValueBytes = 256;
    public const int PageSize = 1_000;

    private readonly string _dir;
    private readonly NodeStore _node;
    private readonly MvccStore _mvcc;
    private readonly byte[][] _keys;
    private int _next;

    public MvccReadData(int versionsPerKey)
    {
        VersionsPerKey = versionsPerKey;
        _dir = Path.Combine(Path.GetTempPath(), "kv-bench-mvcc-" + Guid.NewGuid().ToString("N"));
        _node = NodeStore.Open(_dir);
        _mvcc = new MvccStore(_node);
        _keys = new byte[Keys][];
        var value = new byte[ValueBytes];
        using var batch = new WriteBatch();
        for (int i = 0; i < Keys; i++)
        {
            _keys[i] = System.Text.Encoding.ASCII.GetBytes($"user/{i:D8}");
            for (int v = 1; v <= versionsPerKey; v++) _mvcc.Put(batch, _keys[i], value, new Timestamp(v * 1_000, 0));
        }
        _mvcc.Write(batch);
        _node.FlushAll();
        // Warm the block cache so that the point read measures a cached key.
        for (int i = 0; i < Keys; i++) _mvcc.Get(_keys[i], Timestamp.Max);
    }

    public int VersionsPerKey { get; }

    /// <summary>Latest versions of <paramref name="count"/> cached keys, spread over the key space; returns how many had a value.</summary>
    public int PointReads(int count)
    {
        int found = 0;
        for (int i = 0; i < count; i++)
        {
            _next = (_next + 7919) % Keys;
            if (_mvcc.Get(_keys[_next], Timestamp.Max).HasValue) found++;
        }
        return found;
    }

    /// <summary>Every key at the latest timestamp, in pages of <see cref="PageSize"/>; returns the versions examined.</summary>
    public long ScanAll(bool reverse)
    {
        long examined = 0;
        byte[]? resume = null;
        do
        {
            var page = _mvcc.Scan(KeySpan.All, Timestamp.Max, PageSize, reverse, resume);
            examined += page.VersionsExamined;
            resume = page.ResumeKey;
        }
        while (resume is not null);
        return examined;
    }

    public void Dispose()
    {
        _mvcc.Dispose();
        _node.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
