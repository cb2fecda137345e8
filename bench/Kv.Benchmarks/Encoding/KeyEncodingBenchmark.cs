using BenchmarkDotNet.Attributes;
using Kv.Storage.Encoding;

namespace Kv.Benchmarks.Encoding;

/// <summary>
/// The MVCC data key (<see cref="KeyEncoding"/>): escaping a user key and appending a committed version, and
/// decoding it back. User keys of <see cref="KeyBytes"/> bytes with a 0x00 every 16 (each costs an escape).
/// </summary>
[MemoryDiagnoser]
public class KeyEncodingBenchmark
{
    private byte[] _userKey = [];
    private byte[] _encoded = [];
    private readonly Timestamp _version = new(1_790_000_000_000_000_000, 3);

    [Params(16, 256)]
    public int KeyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _userKey = new byte[KeyBytes];
        new Random(1).NextBytes(_userKey);
        for (int i = 0; i < _userKey.Length; i += 16) _userKey[i] = 0;
        _encoded = KeyEncoding.Committed(_userKey, _version);
    }

    [Benchmark]
    public byte[] EncodeCommitted() => KeyEncoding.Committed(_userKey, _version);

    [Benchmark]
    public DecodedKey Decode() => KeyEncoding.Decode(_encoded);
}
