using Grpc.Core;
using Kv.Proto.V1;
using Kv.Server.Ranges;
using Kv.Storage;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Kv.Storage.Ranges;

namespace Kv.Server.Snapshots;

/// <summary>
/// Reads a range of a published snapshot from this node's checkpoint: each key's newest committed version at the
/// snapshot's timestamp. A checkpoint is opened once however many exports read it at a time (RocksDB refuses a
/// second open of the same path in one process) and closed when the last one ends.
/// </summary>
internal sealed class SnapshotReader(LocalSnapshots local, Telemetry.SnapshotMetrics? metrics = null)
{
    // A chunk is cut after this many key and value bytes (at least one entry each), well below gRPC's 4 MiB default
    // receive limit for small entries; one larger entry travels alone.
    private const int ChunkBytesMax = 1 << 20;

    private readonly Dictionary<string, OpenCheckpoint> _open = new(StringComparer.Ordinal);

    public async IAsyncEnumerable<SnapshotDataChunk> ReadAsync(SnapshotManifest manifest, ulong rangeId, int entriesMax,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var range = manifest.Ranges.FirstOrDefault(r => r.Range.RangeId == rangeId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"snapshot '{manifest.Name}' has no range {rangeId}"));
        var checkpoint = Acquire(manifest.Id);
        try
        {
            if (!new MetaStore(checkpoint.Store).TryGet(RangeStateKeys.SnapshotPiece(manifest.Id, rangeId), out _))
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"this node's checkpoint of snapshot '{manifest.Name}' does not hold range {rangeId}; ask node {string.Join(" or ", range.NodeIds)}"));
            var span = Descriptors.SpanOf(range.Range);
            var at = Kv.Txn.TxnWire.ToStorage(manifest.Timestamp);
            byte[]? resume = null;
            do
            {
                cancellationToken.ThrowIfCancellationRequested();
                var page = await Task.Run(() => checkpoint.Mvcc.Scan(span, at, entriesMax, reverse: false, resume), cancellationToken).ConfigureAwait(false);
                var chunk = new SnapshotDataChunk();
                int chunkBytes = 0;
                foreach (var entry in page.Entries)
                {
                    // A staged version at or below the timestamp cannot be there after a correct piece; the committed
                    // value under it (if any) is the key's value at the timestamp.
                    if (entry.Result.Value is null)
                        continue;
                    chunk.Entries.Add(new SnapshotEntry
                    {
                        Key = Google.Protobuf.ByteString.CopyFrom(entry.Key),
                        Value = Google.Protobuf.ByteString.CopyFrom(entry.Result.Value),
                        Version = Kv.Txn.TxnWire.ToWire(entry.Result.VersionTimestamp),
                    });
                    chunkBytes += entry.Key.Length + entry.Result.Value.Length;
                    metrics?.Exported(entry.Key.Length + entry.Result.Value.Length);
                    if (chunkBytes < ChunkBytesMax) continue;
                    yield return chunk;
                    chunk = new SnapshotDataChunk();
                    chunkBytes = 0;
                }
                if (chunk.Entries.Count > 0) yield return chunk;
                resume = page.ResumeKey;
            }
            while (resume is not null);
        }
        finally
        {
            Release(manifest.Id);
        }
    }

    private OpenCheckpoint Acquire(string id)
    {
        lock (_open)
        {
            if (!_open.TryGetValue(id, out var open))
            {
                string dir = local.DirectoryOf(id);
                if (!Directory.Exists(dir))
                    throw new RpcException(new Status(StatusCode.FailedPrecondition, $"this node holds no checkpoint of snapshot {id}; ask a node its manifest names"));
                var store = NodeCheckpoint.OpenCheckpoint(dir);
                _open[id] = open = new OpenCheckpoint(store, new MvccStore(store));
            }
            open.Users++;
            return open;
        }
    }

    private void Release(string id)
    {
        lock (_open)
        {
            if (!_open.TryGetValue(id, out var open) || --open.Users > 0) return;
            _open.Remove(id);
            open.Mvcc.Dispose();
            open.Store.Dispose();
        }
    }

    private sealed class OpenCheckpoint(NodeStore store, MvccStore mvcc)
    {
        public NodeStore Store { get; } = store;

        public MvccStore Mvcc { get; } = mvcc;

        public int Users { get; set; }
    }
}
