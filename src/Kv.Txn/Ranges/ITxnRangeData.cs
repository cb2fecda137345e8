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

    /// <summary>Adds a committed version (a value, or a deletion when <paramref name="value"/> is null) to the batch.</summary>
    void WriteCommitted(WriteBatch batch, ReadOnlySpan<byte> key, byte[]? value, StorageTimestamp timestamp);
}
