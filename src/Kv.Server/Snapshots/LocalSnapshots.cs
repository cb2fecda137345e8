using Kv.Proto.V1;
using Kv.Server.Ranges;
using Kv.Storage;
using Kv.Storage.Meta;
using RocksDbSharp;

namespace Kv.Server.Snapshots;

/// <summary>
/// What this node keeps of snapshots: its replicas' hidden piece records (meta column family) and its
/// checkpoints under <c>&lt;data-dir&gt;/snapshots/&lt;id&gt;/</c> (RocksDB ignores sub-directories of its own).
/// </summary>
internal sealed class LocalSnapshots(NodeStore store, string dataDirectory)
{
    private readonly MetaStore _meta = new(store);

    /// <summary>The folder holding one checkpoint per snapshot.</summary>
    public string Root { get; } = Path.Combine(dataDirectory, "snapshots");

    /// <summary>The checkpoint folder of snapshot <paramref name="id"/> (which may not exist).</summary>
    public string DirectoryOf(string id) => Path.Combine(Root, id);

    /// <summary>Whether this node's replica of the range applied the snapshot's piece (and its record is still kept).</summary>
    public bool HasPiece(string id, ulong rangeId) => _meta.TryGet(RangeStateKeys.SnapshotPiece(id, rangeId), out _);

    /// <summary>The piece this node's replica of the range recorded, or null.</summary>
    public SnapshotPieceRecord? Piece(string id, ulong rangeId) =>
        _meta.TryGet(RangeStateKeys.SnapshotPiece(id, rangeId), out var value) ? SnapshotPieceRecord.Parser.ParseFrom(value) : null;

    /// <summary>
    /// Every snapshot id this node holds something of, with the time it was made: the snapshot timestamp of its
    /// pieces, else the checkpoint folder's creation time.
    /// </summary>
    public IReadOnlyDictionary<string, DateTime> List()
    {
        var found = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        foreach (var (_, value) in _meta.List(RangeStateKeys.SnapshotPiecePrefix))
        {
            var piece = SnapshotPieceRecord.Parser.ParseFrom(value);
            found[piece.SnapshotId] = DateTime.UnixEpoch.AddTicks(piece.Timestamp.WallNanos / 100);
        }
        if (Directory.Exists(Root))
            foreach (var dir in new DirectoryInfo(Root).GetDirectories())
                if (SnapshotIds.IsValid(dir.Name) && !found.ContainsKey(dir.Name)) found[dir.Name] = dir.CreationTimeUtc;
        return found;
    }

    /// <summary>Removes the snapshot's checkpoint and piece records from this node.</summary>
    public void Remove(string id)
    {
        string dir = DirectoryOf(id);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        using var batch = new WriteBatch();
        var pieces = _meta.List(RangeStateKeys.SnapshotPieces(id));
        foreach (var (key, _) in pieces) _meta.Delete(batch, key);
        if (pieces.Count > 0) store.Db.Write(batch, store.SyncWrite);
    }
}
