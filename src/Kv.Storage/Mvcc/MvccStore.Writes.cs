using Kv.Storage.Encoding;
using RocksDbSharp;

namespace Kv.Storage.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>Adds to <paramref name="batch"/> the version of <paramref name="key"/> committed at <paramref name="timestamp"/> holding <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">An empty or too long key, a too long value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timestamp not above <see cref="Timestamp.Zero"/>.</exception>
    public void Put(WriteBatch batch, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, Timestamp timestamp)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ValidateKey(key, nameof(key));
        ValidateValue(value, nameof(value));
        ValidateTimestamp(timestamp, nameof(timestamp));
        AddCommitted(batch, key, tombstone: false, value, timestamp);
    }

    /// <summary>Adds to <paramref name="batch"/> a tombstone of <paramref name="key"/> committed at <paramref name="timestamp"/>.</summary>
    /// <exception cref="ArgumentException">An empty or too long key.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timestamp not above <see cref="Timestamp.Zero"/>.</exception>
    public void Delete(WriteBatch batch, ReadOnlySpan<byte> key, Timestamp timestamp)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ValidateKey(key, nameof(key));
        ValidateTimestamp(timestamp, nameof(timestamp));
        AddCommitted(batch, key, tombstone: true, [], timestamp);
    }

    /// <summary>Writes (synchronously, fsynced) the version of <paramref name="key"/> committed at <paramref name="timestamp"/>.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, Timestamp timestamp)
    {
        using var batch = new WriteBatch();
        Put(batch, key, value, timestamp);
        Write(batch);
    }

    /// <summary>Writes (synchronously, fsynced) a tombstone of <paramref name="key"/> committed at <paramref name="timestamp"/>.</summary>
    public void Delete(ReadOnlySpan<byte> key, Timestamp timestamp)
    {
        using var batch = new WriteBatch();
        Delete(batch, key, timestamp);
        Write(batch);
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> the staged version of <paramref name="key"/> owned by
    /// <paramref name="txnId"/>, replacing any staged version of the key. A key has at most one staged version:
    /// staging over another transaction's is the caller's error to prevent — check with <see cref="TryGetStaged"/>
    /// first. Restaging by the same transaction overwrites.
    /// </summary>
    /// <exception cref="ArgumentException">An empty or too long key, a too long value, the empty transaction id.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timestamp not above <see cref="Timestamp.Zero"/>.</exception>
    public void Stage(WriteBatch batch, ReadOnlySpan<byte> key, TxnId txnId, Timestamp provisionalTimestamp, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ValidateKey(key, nameof(key));
        ValidateValue(value, nameof(value));
        ValidateTxnId(txnId, nameof(txnId));
        ValidateTimestamp(provisionalTimestamp, nameof(provisionalTimestamp));
        AddStaged(batch, key, txnId, provisionalTimestamp, tombstone: false, value);
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> a staged tombstone of <paramref name="key"/> owned by
    /// <paramref name="txnId"/>; the same rules as <see cref="Stage"/>.
    /// </summary>
    public void StageDelete(WriteBatch batch, ReadOnlySpan<byte> key, TxnId txnId, Timestamp provisionalTimestamp)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ValidateKey(key, nameof(key));
        ValidateTxnId(txnId, nameof(txnId));
        ValidateTimestamp(provisionalTimestamp, nameof(provisionalTimestamp));
        AddStaged(batch, key, txnId, provisionalTimestamp, tombstone: true, []);
    }

    /// <summary>Writes <paramref name="batch"/> atomically and synchronously (fsynced).</summary>
    public void Write(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _store.Db.Write(batch, _store.SyncWrite);
    }

    private void AddCommitted(WriteBatch batch, ReadOnlySpan<byte> key, bool tombstone, ReadOnlySpan<byte> payload, Timestamp timestamp)
    {
        int keyLength = KeyEncoding.EscapedLength(key) + KeyEncoding.CommittedSuffixLength;
        byte[] record = Rent(keyLength + MvccValue.CommittedLength(payload.Length));
        try
        {
            int prefixLength = DataKeys.WritePrefix(key, record);
            DataKeys.WriteCommittedSuffix(timestamp, record.AsSpan(prefixLength));
            int valueLength = MvccValue.WriteCommitted(record, keyLength, tombstone, payload);
            batch.Put(record.AsSpan(0, keyLength), record.AsSpan(keyLength, valueLength), _store.Data);
        }
        finally
        {
            Return(record);
        }
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> the deletion of <paramref name="key"/>'s staged version, whoever owns it,
    /// without reading the database: for a caller that tracks staged versions itself and may stage and clear in
    /// one batch (which <see cref="RemoveStaged(WriteBatch, IReadOnlyList{byte[]}, TxnId)"/>, reading the
    /// database, cannot see).
    /// </summary>
    public void ClearStaged(WriteBatch batch, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ValidateKey(key, nameof(key));
        int keyLength = KeyEncoding.EscapedLength(key) + DataKeys.StagedSuffixLength;
        byte[] record = Rent(keyLength);
        try
        {
            int prefixLength = DataKeys.WritePrefix(key, record);
            record[prefixLength] = KeyEncoding.StagedMarker;
            batch.Delete(record.AsSpan(0, keyLength), _store.Data);
        }
        finally
        {
            Return(record);
        }
    }

    private void AddStaged(
        WriteBatch batch, ReadOnlySpan<byte> key, TxnId txnId, Timestamp provisionalTimestamp, bool tombstone, ReadOnlySpan<byte> payload)
    {
        int keyLength = KeyEncoding.EscapedLength(key) + DataKeys.StagedSuffixLength;
        byte[] record = Rent(keyLength + MvccValue.StagedLength(payload.Length));
        try
        {
            int prefixLength = DataKeys.WritePrefix(key, record);
            record[prefixLength] = KeyEncoding.StagedMarker;
            int valueLength = MvccValue.WriteStaged(record, keyLength, txnId, provisionalTimestamp, tombstone, payload);
            batch.Put(record.AsSpan(0, keyLength), record.AsSpan(keyLength, valueLength), _store.Data);
        }
        finally
        {
            Return(record);
        }
    }
}
