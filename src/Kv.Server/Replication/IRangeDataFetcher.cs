using Kv.Storage.Mvcc;

namespace Kv.Server.Replication;

/// <summary>
/// Copies a range's MVCC data from a peer into this node's store (replacing what the span held), for installing
/// a snapshot or rebuilding a corrupt replica. The host stays free of network code; the node supplies this.
/// </summary>
public interface IRangeDataFetcher
{
    /// <summary>
    /// Installs <paramref name="span"/>'s data from the first of <paramref name="candidates"/> whose replica of the
    /// range has applied at least <paramref name="appliedAtLeast"/> slots; throws when none could serve it.
    /// </summary>
    Task FetchAsync(IReadOnlyList<ulong> candidates, ulong rangeId, KeySpan span, long appliedAtLeast, CancellationToken cancellationToken);
}
