using Kv.Storage.Encoding;

namespace Kv.Storage.Ranges;

/// <summary>Choosing where to split a range.</summary>
public sealed partial class RangeDataOps
{
    /// <summary>
    /// The user key that splits the span's data (keys and values of every version, as stored) into two halves of
    /// about equal size, or null when the span holds fewer than two user keys (nothing to split). The key returned
    /// is never the span's start, so both halves are non-empty. Two passes over one RocksDB snapshot: exact, and
    /// cheap next to the snapshot transfers a range of the split threshold's size costs anyway.
    /// </summary>
    public byte[]? FindMiddleKey(RangeSpan span)
    {
        var encoded = new EncodedSpan(span);
        using var snapshot = Store.Db.CreateSnapshot();
        long total = 0;
        using (var iterator = Store.Db.NewIterator(Store.Data, encoded.NewReadOptions(snapshot)))
        {
            for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next()) total += iterator.Key().Length + iterator.Value().Length;
            EncodedSpan.ThrowIfFailed(iterator, $"sizing range {span}");
        }
        long seen = 0;
        byte[]? first = null, current = null;
        using (var iterator = Store.Db.NewIterator(Store.Data, encoded.NewReadOptions(snapshot)))
        {
            for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
            {
                byte[] key = iterator.Key();
                byte[] user = KeyEncoding.Decode(key).UserKey;
                if (current is null || !user.AsSpan().SequenceEqual(current))
                {
                    // A new user key: every version of the previous one is counted, so this is a boundary.
                    if (first is not null && seen * 2 >= total) return user;
                    first ??= user;
                    current = user;
                }
                seen += key.Length + iterator.Value().Length;
            }
            EncodedSpan.ThrowIfFailed(iterator, $"sizing range {span}");
        }
        // The last user key holds more than half the data: split just before it, unless it is the only key.
        return current is not null && first is not null && !current.AsSpan().SequenceEqual(first) ? current : null;
    }
}
