using Kv.Storage;
using Kv.Storage.Mvcc;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Replication;

/// <summary>Serializable reads: this replica's applied state as it stands, whether or not it leads.</summary>
public sealed partial class ReplicaHost
{
    /// <summary>
    /// Reads the latest version of <paramref name="key"/> from this node's replica of the range as applied now, on the
    /// loop (so never from a half-applied round), with no lease check and no read-index round. Null when the replica
    /// cannot serve it: the range is not hosted here, it has no state yet (an empty replica waiting for a snapshot),
    /// or it is being restored (its data may be older than what it applied before). Throws
    /// <see cref="RangeMovedException"/> when the range no longer holds the key. Corrupt data asks for a rebuild and
    /// returns null, so that the caller takes the linearizable path.
    /// </summary>
    public async Task<MvccReadResult?> ReadAppliedAsync(ulong rangeId, byte[] key, CancellationToken cancellationToken) =>
        (MvccReadResult?)await AppliedAsync(rangeId, m => m.Span.Contains(key)
            ? m.Read(key, StorageTimestamp.Max)
            : throw new RangeMovedException(rangeId, "the key"), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// A page of <paramref name="span"/> (inside the range) from the replica's applied state, as <see cref="ReadAppliedAsync"/>
    /// reads a key; null when the replica cannot serve it.
    /// </summary>
    public async Task<MvccScanPage?> ScanAppliedAsync(ulong rangeId, KeySpan span, int limit, bool reverse, CancellationToken cancellationToken) =>
        (MvccScanPage?)await AppliedAsync(rangeId, m => Within(span, m.Span)
            ? m.Scan(span, limit, reverse, null, null)
            : throw new RangeMovedException(rangeId, $"all of {span}"), cancellationToken).ConfigureAwait(false);

    private async Task<object?> AppliedAsync(ulong rangeId, Func<Ranges.RangeStateMachine, object> read, CancellationToken cancellationToken)
    {
        try
        {
            // Runs on the loop: the check of the replica's state and the read see the same applied round.
            return await LocalAsync(rangeId, m => _ranges.TryGetValue(rangeId, out var r) && r.Restore is null && m.HasState
                ? read(m)
                : NotServed.Instance, cancellationToken).ConfigureAwait(false) is var result && result != NotServed.Instance ? result : null;
        }
        catch (RangeNotHostedException)
        {
            return null;
        }
        catch (StorageCorruptionException)
        {
            RequestRebuild(rangeId, "corrupt data found by a serializable read");
            return null;
        }
    }

    private sealed class NotServed
    {
        public static readonly NotServed Instance = new();
    }
}
