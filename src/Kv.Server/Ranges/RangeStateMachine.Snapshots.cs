using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage.Meta;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Ranges;

/// <summary>
/// Snapshot commands (docs/snapshots.md): a user range's piece (close the snapshot timestamp; record the piece if
/// no transaction can still commit at or below it), and the meta range's manifests (publish, abort, delete).
/// </summary>
public sealed partial class RangeStateMachine
{
    private readonly Dictionary<string, SnapshotManifest> _snapshots = new(StringComparer.Ordinal);
    private readonly HashSet<string> _abortedSnapshots = new(StringComparer.Ordinal);

    /// <summary>The meta range's published snapshots as applied here (empty for other ranges); read on the host's loop.</summary>
    public IReadOnlyCollection<SnapshotManifest> PublishedSnapshots => _snapshots.Values;

    private void LoadSnapshots()
    {
        foreach (var (key, value) in _meta.List(RangeStateKeys.SnapshotManifestPrefix))
        {
            var m = MetaStore.Decode(key, value, SnapshotManifest.Parser.ParseFrom);
            _snapshots[m.Id] = m;
        }
        foreach (var (key, _) in _meta.List(RangeStateKeys.SnapshotAbortedPrefix))
            _abortedSnapshots.Add(key[RangeStateKeys.SnapshotAbortedPrefix.Length..]);
    }

    private static bool IsMetaOp(RangeCommand.OpOneofCase op) => op is RangeCommand.OpOneofCase.MetaUpdate or RangeCommand.OpOneofCase.AllocateRangeIds
        or RangeCommand.OpOneofCase.SnapshotPublish or RangeCommand.OpOneofCase.SnapshotAbort or RangeCommand.OpOneofCase.SnapshotDelete;

    /// <summary>
    /// A user range's piece: closes the snapshot timestamp (no stage commits at or below it from now on, and plain
    /// writes land above it), then succeeds only if no transaction's staged version at or below it remains, so the
    /// range's data at the timestamp is final. The piece record goes into the meta column family, hidden until a
    /// manifest names the snapshot.
    /// </summary>
    private RangeCommandResult SnapshotPiece(WriteBatch batch, SnapshotPiece piece)
    {
        var at = Kv.Txn.TxnWire.ToStorage(piece.Timestamp);
        if (at <= StorageTimestamp.Zero || !SnapshotIds.IsValid(piece.SnapshotId))
            return new RangeCommandResult { Error = "a snapshot piece needs a valid id and timestamp" };
        if (!piece.TestSkipClose)
        {
            _txns.Close(batch, at);
            if (at > LastAppliedTimestamp) LastAppliedTimestamp = at;
        }
        if (!piece.TestSkipLockCheck)
        {
            // Read locks change no data, and a write lock above the timestamp commits above it: only these matter.
            var blocking = _txns.AllLocks().FirstOrDefault(l => l.Write && Kv.Txn.TxnWire.ToStorage(l.CommitTimestamp) <= at);
            if (blocking is not null)
                return new RangeCommandResult { Succeeded = false, LockedBy = blocking, Error = "a transaction is staged at or below the snapshot timestamp" };
        }
        var record = new SnapshotPieceRecord { SnapshotId = piece.SnapshotId, Timestamp = piece.Timestamp, Range = Descriptor };
        _meta.Put(batch, RangeStateKeys.SnapshotPiece(piece.SnapshotId, _rangeId), record.ToByteArray());
        var result = new RangeCommandResult { Succeeded = true };
        result.Descriptors.Add(Descriptor);
        return result;
    }

    private RangeCommandResult PublishSnapshot(WriteBatch batch, MetaSnapshotPublish publish)
    {
        var manifest = publish.Manifest;
        if (manifest is null || !SnapshotIds.IsValid(manifest.Id) || !SnapshotIds.IsValidName(manifest.Name))
            return new RangeCommandResult { Error = "a snapshot manifest needs a valid id and name" };
        if (_snapshots.ContainsKey(manifest.Id)) return new RangeCommandResult { Succeeded = true };
        if (_abortedSnapshots.Contains(manifest.Id))
            return new RangeCommandResult { Succeeded = false, Error = $"snapshot {manifest.Id} was aborted" };
        if (_snapshots.Values.Any(s => s.Name == manifest.Name))
            return new RangeCommandResult { Succeeded = false, Found = true, Error = $"a snapshot named '{manifest.Name}' exists" };
        _snapshots[manifest.Id] = manifest;
        _meta.Put(batch, RangeStateKeys.SnapshotManifest(manifest.Id), manifest.ToByteArray());
        return new RangeCommandResult { Succeeded = true };
    }

    private RangeCommandResult AbortSnapshot(WriteBatch batch, MetaSnapshotAbort abort)
    {
        if (!SnapshotIds.IsValid(abort.SnapshotId)) return new RangeCommandResult { Error = "a snapshot abort needs a valid id" };
        // Published: the abort loses (found = true tells the caller to keep its pieces).
        if (_snapshots.ContainsKey(abort.SnapshotId)) return new RangeCommandResult { Succeeded = false, Found = true };
        MarkAborted(batch, abort.SnapshotId);
        return new RangeCommandResult { Succeeded = true };
    }

    private RangeCommandResult DeleteSnapshot(WriteBatch batch, MetaSnapshotDelete delete)
    {
        var manifest = _snapshots.Values.FirstOrDefault(s => s.Name == delete.Name);
        if (manifest is null) return new RangeCommandResult { Succeeded = false, Found = false };
        _snapshots.Remove(manifest.Id);
        _meta.Delete(batch, RangeStateKeys.SnapshotManifest(manifest.Id));
        MarkAborted(batch, manifest.Id);
        return new RangeCommandResult { Succeeded = true, Found = true };
    }

    private void MarkAborted(WriteBatch batch, string id)
    {
        if (_abortedSnapshots.Add(id)) _meta.Put(batch, RangeStateKeys.SnapshotAborted(id), []);
    }

    private void CaptureSnapshots(RangeSnapshotState state)
    {
        state.Snapshots.AddRange(_snapshots.Values.OrderBy(s => s.Id, StringComparer.Ordinal));
        state.AbortedSnapshotIds.AddRange(_abortedSnapshots.Order(StringComparer.Ordinal));
    }

    private void RestoreSnapshots(WriteBatch batch, RangeSnapshotState state)
    {
        foreach (var (key, _) in _meta.List(RangeStateKeys.SnapshotManifestPrefix)) _meta.Delete(batch, key);
        foreach (var (key, _) in _meta.List(RangeStateKeys.SnapshotAbortedPrefix)) _meta.Delete(batch, key);
        _snapshots.Clear();
        _abortedSnapshots.Clear();
        foreach (var m in state.Snapshots)
        {
            _snapshots[m.Id] = m;
            _meta.Put(batch, RangeStateKeys.SnapshotManifest(m.Id), m.ToByteArray());
        }
        foreach (var id in state.AbortedSnapshotIds) MarkAborted(batch, id);
    }
}
