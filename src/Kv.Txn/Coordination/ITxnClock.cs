using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>The node's hybrid logical clock, as transactions need it.</summary>
public interface ITxnClock
{
    /// <summary>A timestamp above every one this clock issued or saw, and above <paramref name="floor"/>.</summary>
    ValueTask<StorageTimestamp> NowAboveAsync(StorageTimestamp floor, CancellationToken cancellationToken);
}
