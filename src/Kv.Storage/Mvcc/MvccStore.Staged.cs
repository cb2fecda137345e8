using Kv.Storage.Encoding;
using RocksDbSharp;

namespace Kv.Storage.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Adds to <paramref name="batch"/> the publication of <paramref name="txnId"/>'s staged versions of
    /// <paramref name="keys"/>: each becomes a committed version at <paramref name="commitTimestamp"/> (a value or
    /// a tombstone, as staged) and the staged version is deleted, both in the one batch. Keys without a staged
    /// version, or staged by another transaction, are left alone, so publishing twice is harmless. Reads the
    /// database as it is now, not the batch: stage and publish in different writes.
    /// </summary>
    /// <returns>The number of versions published.</returns>
    /// <exception cref="StorageCorruptionException">A staged version failed its checks.</exception>
    public int Publish(WriteBatch batch, IReadOnlyList<byte[]> keys, TxnId txnId, Timestamp commitTimestamp)
    {
        ValidateTimestamp(commitTimestamp, nameof(commitTimestamp));
        return ResolveKeys(batch, keys, txnId, commitTimestamp);
    }

    /// <summary>
    /// <see cref="Publish(WriteBatch, IReadOnlyList{byte[]}, TxnId, Timestamp)"/> for every key of
    /// <paramref name="span"/> (one pass over the span's versions, seeking past old ones).
    /// </summary>
    public int Publish(WriteBatch batch, KeySpan span, TxnId txnId, Timestamp commitTimestamp)
    {
        ValidateTimestamp(commitTimestamp, nameof(commitTimestamp));
        return ResolveSpan(batch, span, txnId, commitTimestamp);
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> the deletion of <paramref name="txnId"/>'s staged versions of
    /// <paramref name="keys"/> (an abort). Other transactions' staged versions are left alone.
    /// </summary>
    /// <returns>The number of staged versions removed.</returns>
    public int RemoveStaged(WriteBatch batch, IReadOnlyList<byte[]> keys, TxnId txnId) =>
        ResolveKeys(batch, keys, txnId, commitTimestamp: null);

    /// <summary><see cref="RemoveStaged(WriteBatch, IReadOnlyList{byte[]}, TxnId)"/> for every key of <paramref name="span"/>.</summary>
    public int RemoveStaged(WriteBatch batch, KeySpan span, TxnId txnId) =>
        ResolveSpan(batch, span, txnId, commitTimestamp: null);

    private int ResolveKeys(WriteBatch batch, IReadOnlyList<byte[]> keys, TxnId txnId, Timestamp? commitTimestamp)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(keys);
        ValidateTxnId(txnId, nameof(txnId));
        for (int i = 0; i < keys.Count; i++) ValidateKey(keys[i], nameof(keys));

        int resolved = 0;
        byte[] buffer = Rent(256);
        var cursor = RentPointCursor(null);
        bool healthy = false;
        try
        {
            for (int i = 0; i < keys.Count; i++)
            {
                var prefix = KeyEncoding.UserKeyPrefix(keys[i]);
                CopyPrefix(prefix, ref buffer);
                buffer[prefix.Length] = KeyEncoding.StagedMarker;
                int stagedKeyLength = prefix.Length + DataKeys.StagedSuffixLength;
                cursor.Seek(buffer, stagedKeyLength);
                if (cursor.Valid() && cursor.Key.SequenceEqual(buffer.AsSpan(0, stagedKeyLength))
                    && ResolveCurrent(cursor, batch, prefix.Length, txnId, commitTimestamp))
                    resolved++;
            }
            healthy = true;
        }
        finally
        {
            ReleasePointCursor(cursor, null, healthy);
            Return(buffer);
        }
        return resolved;
    }

    private int ResolveSpan(WriteBatch batch, KeySpan span, TxnId txnId, Timestamp? commitTimestamp)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(span.Start, nameof(span));
        ValidateTxnId(txnId, nameof(txnId));

        int resolved = 0;
        byte[] buffer = Rent(256);
        using var cursor = OpenSpan(span, null, null);
        try
        {
            cursor.SeekToFirst();
            while (cursor.Valid())
            {
                int prefixLength = CurrentPrefixLength(cursor);
                CopyPrefix(cursor.Key[..prefixLength], ref buffer);
                if (DataKeys.IsStagedSuffix(cursor.Key[prefixLength..])
                    && ResolveCurrent(cursor, batch, prefixLength, txnId, commitTimestamp))
                    resolved++;
                AdvancePastKey(cursor, buffer, prefixLength);
            }
        }
        finally
        {
            Return(buffer);
        }
        return resolved;
    }

    /// <summary>
    /// The cursor is at a staged version: if <paramref name="txnId"/> owns it, adds its deletion and, with a
    /// commit timestamp, the committed version it becomes.
    /// </summary>
    private bool ResolveCurrent(DataCursor cursor, WriteBatch batch, int prefixLength, TxnId txnId, Timestamp? commitTimestamp)
    {
        var record = cursor.Record();
        int keyLength = cursor.KeyLength;
        var payload = MvccValue.ReadStaged(record, keyLength, out var owner, out _, out bool tombstone);
        if (owner != txnId) return false;
        batch.Delete(record[..keyLength], _store.Data);
        if (commitTimestamp is not { } timestamp) return true;

        int committedKeyLength = prefixLength + KeyEncoding.CommittedSuffixLength;
        byte[] committed = Rent(committedKeyLength + MvccValue.CommittedLength(payload.Length));
        try
        {
            record[..prefixLength].CopyTo(committed);
            DataKeys.WriteCommittedSuffix(timestamp, committed.AsSpan(prefixLength));
            int valueLength = MvccValue.WriteCommitted(committed, committedKeyLength, tombstone, payload);
            batch.Put(committed.AsSpan(0, committedKeyLength), committed.AsSpan(committedKeyLength, valueLength), _store.Data);
        }
        finally
        {
            Return(committed);
        }
        return true;
    }
}
