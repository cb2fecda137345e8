using Kv.Storage.Encoding;
using Kv.Storage.Ranges;
using RocksDbSharp;

namespace Kv.Storage.Tests.Ranges;

/// <summary>
/// A fresh <see cref="NodeStore"/> in a unique temporary directory, deleted on dispose. Exports and checkpoints
/// go under the same root (<see cref="NewPath"/>) so they share its file system and its cleanup.
/// </summary>
internal sealed class TempNodeStore : IDisposable
{
    public TempNodeStore()
    {
        Root = Path.Combine(Path.GetTempPath(), "kv-storage-tests", Guid.NewGuid().ToString("N"));
        Store = NodeStore.Open(Path.Combine(Root, "db"));
        Ops = new RangeDataOps(Store);
    }

    public string Root { get; }

    public NodeStore Store { get; }

    public RangeDataOps Ops { get; }

    /// <summary>A path under the root that does not exist yet.</summary>
    public string NewPath(string name) => Path.Combine(Root, name);

    /// <summary>Writes the staged version and two committed versions of each user key, values derived from <paramref name="tag"/>.</summary>
    public void PutVersions(string tag, params byte[][] userKeys)
    {
        using var batch = new WriteBatch();
        foreach (var userKey in userKeys)
        {
            string hex = Convert.ToHexString(userKey);
            batch.Put(KeyEncoding.Staged(userKey), System.Text.Encoding.UTF8.GetBytes($"{tag}:staged:{hex}"), Store.Data);
            batch.Put(KeyEncoding.Committed(userKey, new Timestamp(100, 0)), System.Text.Encoding.UTF8.GetBytes($"{tag}:100:{hex}"), Store.Data);
            batch.Put(KeyEncoding.Committed(userKey, new Timestamp(200, 1)), System.Text.Encoding.UTF8.GetBytes($"{tag}:200:{hex}"), Store.Data);
        }
        Store.Db.Write(batch, Store.SyncWrite);
    }

    /// <summary>Every raw pair of the data column family as "KEYHEX=VALUEHEX", in key order.</summary>
    public List<string> DumpData(Func<DecodedKey, bool>? where = null)
    {
        var result = new List<string>();
        using var iterator = Store.Db.NewIterator(Store.Data);
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            byte[] key = iterator.Key();
            if (where is null || where(KeyEncoding.Decode(key)))
                result.Add($"{Convert.ToHexString(key)}={Convert.ToHexString(iterator.Value())}");
        }
        return result;
    }

    /// <summary>The raw pairs whose user key lies in (or, with <paramref name="inside"/> false, outside) the span.</summary>
    public List<string> DumpData(RangeSpan span, bool inside = true) => DumpData(k => span.Contains(k.UserKey) == inside);

    public void Dispose()
    {
        Store.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>User keys chosen to sit on span boundaries and to exercise the 0x00 escape and 0xFF bytes.</summary>
internal static class TestKeys
{
    public static byte[] K(params byte[] bytes) => bytes;

    public static byte[] K(string ascii) => System.Text.Encoding.ASCII.GetBytes(ascii);

    /// <summary>Keys around the span [b, c): below it, on its start, inside with 0x00/0xFF, on its end, above it.</summary>
    public static readonly byte[][] AroundBToC =
    [
        K(0x00), K(0x00, 0x00), K("a"), K(0x61, 0xFF), K(0x61, 0xFF, 0xFF), // below
        K("b"), K(0x62, 0x00), K(0x62, 0x00, 0x00), K(0x62, 0x00, 0xFF), K(0x62, 0xFF), K(0x62, 0xFF, 0xFF, 0xFF), K("bzz"), // inside
        K("c"), K(0x63, 0x00), K("cat"), K(0xFF), K(0xFF, 0xFF, 0xFF, 0xFF), K(0xFF, 0x00), // on the end and above
    ];

    public static readonly RangeSpan BToC = new(K("b"), K("c"));
}
