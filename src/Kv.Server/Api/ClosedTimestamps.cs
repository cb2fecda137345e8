using Google.Protobuf;
using Kv.Paxos;
using Kv.Server.Clock;
using Kv.Server.Replication;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// Stable reads at a timestamp (docs/transactions.md §6): before such a read, the range must be closed up to that
/// timestamp — a TxnCloseTimestamp command in its log, after which no transaction commits at or below it there and
/// the range writes nothing at or below it — so the answer can never change. A range is closed on demand by the
/// leader serving the read; a read below the closed timestamp costs nothing extra.
/// </summary>
internal static class ClosedTimestamps
{
    /// <summary>Makes sure range <paramref name="rangeId"/> (led here) is closed up to <paramref name="at"/>.</summary>
    /// <exception cref="ClockForwardJumpException">The timestamp is further ahead of this node's clock than the clock accepts.</exception>
    public static async Task EnsureAsync(ReplicaHost host, HybridLogicalClock clock, ulong rangeId, StorageTimestamp at, CancellationToken ct)
    {
        if (await host.ClosedAsync(rangeId, ct).ConfigureAwait(false) >= at) return;
        // The clock must have passed the timestamp before the range promises never to write below it.
        await clock.UpdateAsync(at, ct).ConfigureAwait(false);
        var now = await clock.NowAsync(ct).ConfigureAwait(false);
        var command = new Wire.RangeCommand
        {
            Timestamp = new Wire.Timestamp { WallNanos = now.WallNanos, Logical = now.Logical },
            TxnClose = new Wire.TxnCloseTimestamp { Closed = new Wire.Timestamp { WallNanos = at.WallNanos, Logical = at.Logical } },
        };
        // Client 0 keeps no session; a random sequence keeps concurrent proposals apart (see KvService).
        await host.ProposeAsync(rangeId, new Command(0, Random.Shared.NextInt64(1, long.MaxValue), command.ToByteArray()), ct).ConfigureAwait(false);
    }
}
