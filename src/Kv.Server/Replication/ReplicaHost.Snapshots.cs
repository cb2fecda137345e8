using Kv.Proto.V1;
using Kv.Server.Ranges;

namespace Kv.Server.Replication;

/// <summary>Reads of the meta range's snapshot manifests.</summary>
public sealed partial class ReplicaHost
{
    /// <summary>
    /// The published snapshot manifests, read linearizably at the meta range's leader (throws
    /// <see cref="NotLeaderException"/> elsewhere).
    /// </summary>
    public async Task<IReadOnlyList<SnapshotManifest>> PublishedSnapshotsAsync(CancellationToken cancellationToken) =>
        (IReadOnlyList<SnapshotManifest>)await LinearizableAsync(RangeIds.Meta,
            m => m.PublishedSnapshots.Select(s => s.Clone()).ToList(), cancellationToken).ConfigureAwait(false);
}
