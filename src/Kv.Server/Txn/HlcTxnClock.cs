using Kv.Server.Clock;
using Kv.Txn.Coordination;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Txn;

/// <summary>The node's hybrid logical clock for transactions.</summary>
internal sealed class HlcTxnClock(HybridLogicalClock clock) : ITxnClock
{
    public async ValueTask<StorageTimestamp> NowAboveAsync(StorageTimestamp floor, CancellationToken cancellationToken)
    {
        // Receiving the floor moves the clock past it, so the next timestamp is above it.
        if (floor > StorageTimestamp.Zero) await clock.UpdateAsync(floor, cancellationToken).ConfigureAwait(false);
        return await clock.NowAsync(cancellationToken).ConfigureAwait(false);
    }
}
