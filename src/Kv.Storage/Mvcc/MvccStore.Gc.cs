using Kv.Storage.Encoding;
using RocksDbSharp;

namespace Kv.Storage.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Removes the committed versions of <paramref name="span"/> that no read at or above
    /// <paramref name="retentionTimestamp"/> can see: for each key, every version older than its newest version
    /// at or below the threshold, and that newest one too when it is a tombstone (nothing older is kept, so the
    /// key reads as absent either way). Versions above the threshold and staged versions are never touched.
    /// Reads below the threshold are no longer answered correctly afterwards; the caller must refuse them, and
    /// must not write versions at or below the threshold meanwhile.
    /// </summary>
    /// <param name="span">The keys to collect.</param>
    /// <param name="retentionTimestamp">The oldest timestamp reads may still use.</param>
    /// <param name="batch">Add the deletions to this batch; null writes them here, synchronously, in one batch.</param>
    /// <exception cref="StorageCorruptionException">A version read to decide failed its checks.</exception>
    public GarbageCollectionCounts CollectGarbage(KeySpan span, Timestamp retentionTimestamp, WriteBatch? batch = null)
    {
        ArgumentNullException.ThrowIfNull(span.Start, nameof(span));
        ValidateTimestamp(retentionTimestamp, nameof(retentionTimestamp));
        if (batch is null)
        {
            using var own = new WriteBatch();
            var counts = CollectGarbage(span, retentionTimestamp, own);
            if (own.Count() > 0) Write(own);
            return counts;
        }

        long keys = 0, removed = 0, tombstones = 0;
        byte[] buffer = Rent(256);
        using var cursor = OpenSpan(span, null, null);
        try
        {
            cursor.SeekToFirst();
            while (cursor.Valid())
            {
                int prefixLength = CurrentPrefixLength(cursor);
                CopyPrefix(cursor.Key[..prefixLength], ref buffer);
                var prefix = buffer.AsSpan(0, prefixLength);
                if (DataKeys.IsStagedSuffix(cursor.Key[prefixLength..]))
                {
                    cursor.Next();
                    if (!cursor.Valid() || !cursor.Key.StartsWith(prefix)) continue;
                }
                keys++;

                // Find the newest version at or below the threshold, as a read would.
                bool found = false, sought = false;
                int steps = 0;
                while (cursor.Valid() && cursor.Key.StartsWith(prefix))
                {
                    var key = cursor.Key;
                    if (!DataKeys.TryReadCommittedSuffix(key[prefixLength..], out var timestamp))
                        throw MvccValue.Corrupt(key, key.Length, "the version suffix is malformed");
                    if (timestamp <= retentionTimestamp)
                    {
                        found = true;
                        break;
                    }
                    if (!sought && ++steps > SequentialStepsMax)
                    {
                        int targetLength = prefixLength + DataKeys.WriteCommittedSuffix(retentionTimestamp, buffer.AsSpan(prefixLength));
                        cursor.Seek(buffer, targetLength);
                        sought = true;
                        continue;
                    }
                    cursor.Next();
                }
                if (!found) continue;

                MvccValue.ReadCommitted(cursor.Record(), cursor.KeyLength, out bool tombstone);
                if (tombstone)
                {
                    batch.Delete(cursor.Key, _store.Data);
                    removed++;
                    tombstones++;
                }
                // Everything after it in this key is older: unreachable by reads at or above the threshold.
                for (cursor.Next(); cursor.Valid() && cursor.Key.StartsWith(prefix); cursor.Next())
                {
                    batch.Delete(cursor.Key, _store.Data);
                    removed++;
                }
            }
        }
        finally
        {
            Return(buffer);
        }
        return new GarbageCollectionCounts(keys, removed, tombstones);
    }
}
