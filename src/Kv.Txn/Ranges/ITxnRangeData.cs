using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Ranges;

/// <summary>
/// The range's user data as its state machine sees it while applying one batch of commands: including the writes
/// of earlier commands of the same batch, which RocksDB cannot show until the batch is written.
/// </summary>
public interface ITxnRangeData
{
    /// <summary>The newest committed version of the key (a deletion's too): whether there is one, and its timestamp.</summary>
    (bool Exists, StorageTimestamp Version) NewestVersion(ReadOnlySpan<byte> key);

    /// <summary>
    /// Whether any key of [<paramref name="start"/>, <paramref name="end"/>) (null end: unbounded) has a committed
    /// version (a deletion's too) newer than <paramref name="after"/>: a key that changed or appeared there.
    /// </summary>
    bool ChangedAfter(byte[] start, byte[]? end, StorageTimestamp after);

    /// <summary>Adds a committed version (a value, or a deletion when <paramref name="value"/> is null) to the batch.</summary>
    void WriteCommitted(WriteBatch batch, ReadOnlySpan<byte> key, byte[]? value, StorageTimestamp timestamp);
}
