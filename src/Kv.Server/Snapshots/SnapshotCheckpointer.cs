using Kv.Proto.V1;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Storage;
using Kv.Storage.Ranges;

namespace Kv.Server.Snapshots;

/// <summary>
/// The node's side of a snapshot: one RocksDB checkpoint (hard links, no data copied) taken once every local
/// replica of the snapshot's ranges has applied its piece, so that reading a range's span at the snapshot
/// timestamp from the checkpoint gives the snapshot's data for it.
/// </summary>
internal sealed class SnapshotCheckpointer(ReplicaHost host, NodeStore store, LocalSnapshots local)
{
    private const uint DefaultWaitMs = 5_000;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<SnapshotCheckpointResponse> CheckpointAsync(SnapshotCheckpointRequest request, CancellationToken cancellationToken)
    {
        if (!SnapshotIds.IsValid(request.SnapshotId)) throw new ArgumentException($"'{request.SnapshotId}' is not a snapshot id.");
        var hosted = request.RangeIds.Where(host.Hosts).Distinct().ToList();
        var deadline = DateTime.UtcNow.AddMilliseconds(request.WaitMs > 0 ? request.WaitMs : DefaultWaitMs);
        // A follower applies the piece a moment after its leader answered; wait a bounded time for it.
        while (hosted.Any(r => !local.HasPiece(request.SnapshotId, r)) && DateTime.UtcNow < deadline)
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        var held = hosted.Where(r => local.HasPiece(request.SnapshotId, r)).ToList();
        var response = new SnapshotCheckpointResponse();
        if (held.Count == 0) return response;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string dir = local.DirectoryOf(request.SnapshotId);
            // An earlier attempt of the same snapshot (its coordinator retried): take it again, after every piece.
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(local.Root);
            var info = await store.CheckpointAsync(dir, cancellationToken).ConfigureAwait(false);
            response.RangeIds.AddRange(held);
            var data = new RangeDataOps(store);
            foreach (ulong range in held)
            {
                var d = local.Piece(request.SnapshotId, range)?.Range;
                response.RangeSizesBytes.Add(d is null ? 0 : (ulong)data.ApproximateSizeBytes(new RangeSpan(d.StartKey.Span, d.EndKey.Span)));
            }
            response.SizeBytes = (ulong)info.SizeBytes;
            return response;
        }
        finally
        {
            _gate.Release();
        }
    }
}
