using Kv.Storage;
using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using Kv.Storage.Ranges;

namespace Kv.Server.Tests.Peers;

/// <summary>A fresh node database in a unique temporary directory, with its MVCC view and range operations; deleted on dispose.</summary>
internal sealed class RangeDataTestStore : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kv-rangedata-tests", Guid.NewGuid().ToString("N"));

    public RangeDataTestStore()
    {
        Store = NodeStore.Open(_root);
        Mvcc = new MvccStore(Store);
        Ops = new RangeDataOps(Store);
    }

    public NodeStore Store { get; }

    public MvccStore Mvcc { get; }

    public RangeDataOps Ops { get; }

    /// <summary>Commits a value of each key at <paramref name="wall"/>, derived from <paramref name="tag"/> and the key.</summary>
    public void Put(string tag, long wall, params string[] keys)
    {
        foreach (string key in keys) Mvcc.Put(Bytes(key), Bytes($"{tag}@{wall}:{key}"), new Timestamp(wall, 0));
    }

    /// <summary>Every raw data-CF pair whose user key lies inside (or outside) the span, as "KEYHEX=VALUEHEX" in key order.</summary>
    public List<string> Dump(RangeSpan span, bool inside = true)
    {
        var result = new List<string>();
        using var iterator = Store.Db.NewIterator(Store.Data);
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            byte[] key = iterator.Key();
            if (span.Contains(KeyEncoding.Decode(key).UserKey) == inside)
                result.Add($"{Convert.ToHexString(key)}={Convert.ToHexString(iterator.Value())}");
        }
        return result;
    }

    /// <summary>Every raw data-CF pair.</summary>
    public List<string> DumpAll() => Dump(RangeSpan.All);

    /// <summary>The latest committed value of <paramref name="key"/> as text, or null.</summary>
    public string? Latest(string key)
    {
        var read = Mvcc.Get(Bytes(key), Timestamp.Max);
        return read.Value is null ? null : System.Text.Encoding.UTF8.GetString(read.Value);
    }

    public static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    public void Dispose()
    {
        Mvcc.Dispose();
        Store.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
