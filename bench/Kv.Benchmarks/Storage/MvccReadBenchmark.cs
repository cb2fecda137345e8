using BenchmarkDotNet.Attributes;
using Kv.Storage;
using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using RocksDbSharp;

namespace Kv.Benchmarks.Storage;

/// <summary>
/// MVCC reads on one core: a point read of a cached key, and paged scans forward and reverse over keys with one
/// or five versions. Time and allocation are per read (<see cref="PointRead"/>) or per version examined (scans).
/// </summary>
[MemoryDiagnoser]
public class MvccReadBenchmark
{
    private const int Keys = 20_000;
    private const int ValueBytes = 256;
    private const int PageSize = 1_000;
    private string _dir = "";
    private NodeStore? _node;
    private MvccStore? _mvcc;
    private byte[][] _keys = [];
    private int _next;

    /// <summary>Committed versions per key.</summary>
    [Params(1, 5)]
    public int VersionsPerKey { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "kv-bench-mvcc-" + Guid.NewGuid().ToString("N"));
        _node = NodeStore.Open(_dir);
        _mvcc = new MvccStore(_node);
        _keys = new byte[Keys][];
        var value = new byte[ValueBytes];
        using var batch = new WriteBatch();
        for (int i = 0; i < Keys; i++)
        {
            _keys[i] = System.Text.Encoding.ASCII.GetBytes($"user/{i:D8}");
            for (int v = 1; v <= VersionsPerKey; v++) _mvcc.Put(batch, _keys[i], value, new Timestamp(v * 1_000, 0));
        }
        _mvcc.Write(batch);
        _node.FlushAll();
        // Warm the block cache so that the point read measures a cached key.
        for (int i = 0; i < Keys; i++) _mvcc.Get(_keys[i], Timestamp.Max);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _mvcc?.Dispose();
        _node?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Latest version of a cached key.</summary>
    [Benchmark(OperationsPerInvoke = 1_000)]
    public int PointRead()
    {
        int found = 0;
        for (int i = 0; i < 1_000; i++)
        {
            _next = (_next + 7919) % Keys;
            if (_mvcc!.Get(_keys[_next], Timestamp.Max).HasValue) found++;
        }
        return found;
    }

    /// <summary>Every version of every key, forward, in pages.</summary>
    [Benchmark(OperationsPerInvoke = Keys)]
    public long ScanForward() => ScanAll(reverse: false);

    /// <summary>Every version of every key, reverse, in pages.</summary>
    [Benchmark(OperationsPerInvoke = Keys)]
    public long ScanReverse() => ScanAll(reverse: true);

    private long ScanAll(bool reverse)
    {
        long examined = 0;
        byte[]? resume = null;
        do
        {
            var page = _mvcc!.Scan(KeySpan.All, Timestamp.Max, PageSize, reverse, resume);
            examined += page.VersionsExamined;
            resume = page.ResumeKey;
        }
        while (resume is not null);
        return examined;
    }
}
