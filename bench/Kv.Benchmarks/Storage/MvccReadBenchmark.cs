using BenchmarkDotNet.Attributes;

namespace Kv.Benchmarks.Storage;

/// <summary>
/// MVCC reads on one core: a point read of a cached key, and paged scans forward and reverse over keys with one
/// or five versions. Time and allocation are per read (<see cref="PointRead"/>) or per key (scans; with one
/// version per key a key is a version). The data: <see cref="MvccReadData"/>.
/// </summary>
[MemoryDiagnoser]
public class MvccReadBenchmark
{
    private const int PointReadsPerInvoke = 1_000;
    private MvccReadData? _data;

    /// <summary>Committed versions per key.</summary>
    [Params(1, 5)]
    public int VersionsPerKey { get; set; }

    [GlobalSetup]
    public void Setup() => _data = new MvccReadData(VersionsPerKey);

    [GlobalCleanup]
    public void Cleanup() => _data?.Dispose();

    /// <summary>Latest version of a cached key.</summary>
    [Benchmark(OperationsPerInvoke = PointReadsPerInvoke)]
    public int PointRead() => _data!.PointReads(PointReadsPerInvoke);

    /// <summary>Every key, forward, in pages.</summary>
    [Benchmark(OperationsPerInvoke = MvccReadData.Keys)]
    public long ScanForward() => _data!.ScanAll(reverse: false);

    /// <summary>Every key, reverse, in pages.</summary>
    [Benchmark(OperationsPerInvoke = MvccReadData.Keys)]
    public long ScanReverse() => _data!.ScanAll(reverse: true);
}
