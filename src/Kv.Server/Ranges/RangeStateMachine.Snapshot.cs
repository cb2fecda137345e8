using Google.Protobuf;
using Kv.Proto.V1;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Ranges;

/// <summary>Capturing and restoring the state machine's own state (everything but the MVCC data) for snapshots.</summary>
public sealed partial class RangeStateMachine
{
    /// <summary>The state as of <see cref="AppliedUpTo"/>, for a Paxos snapshot at that index.</summary>
    public byte[] CaptureSnapshot() => CaptureState(Descriptor).ToByteArray();

    private RangeSnapshotState CaptureState(RangeDescriptor descriptor)
    {
        var state = new RangeSnapshotState
        {
            Range = descriptor,
            LastApplied = new Proto.V1.Timestamp { WallNanos = LastAppliedTimestamp.WallNanos, Logical = LastAppliedTimestamp.Logical },
            Txn = _txns.Capture(),
        };
        foreach (var (client, (sequence, result)) in _sessions)
            state.Sessions.Add(new ClientSession { ClientId = client, Sequence = sequence, Result = result });
        if (IsMeta)
        {
            state.Directory.AddRange(_directory.Values);
            state.NextRangeId = _nextRangeId;
            state.Nodes.AddRange(_nodes.Values);
            CaptureSnapshots(state);
        }
        return state;
    }

    /// <summary>
    /// Replaces the state with a snapshot's, as of slot <paramref name="index"/>, writing it into
    /// <paramref name="batch"/>. The caller installs the span's MVCC data alongside (from a replica that applied at
    /// least that far) and then applies the log from <paramref name="index"/> on.
    /// </summary>
    public void Restore(WriteBatch batch, long index, RangeSnapshotState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Range is null || state.Range.RangeId != _rangeId)
            throw new ArgumentException($"The snapshot is not of range {_rangeId}.", nameof(state));
        Descriptor = state.Range;
        Span = Descriptors.SpanOf(Descriptor);
        AppliedUpTo = index;
        LastAppliedTimestamp = new StorageTimestamp(state.LastApplied?.WallNanos ?? 0, state.LastApplied?.Logical ?? 0);
        _meta.Put(batch, RangeStateKeys.State(_rangeId), new RangeState { Range = Descriptor }.ToByteArray());
        _meta.Put(batch, RangeStateKeys.Applied(_rangeId), EncodeApplied(AppliedUpTo, LastAppliedTimestamp));
        _descriptorPersisted = true;
        _txns.Restore(batch, state.Txn);
        foreach (var (key, _) in _meta.List(RangeStateKeys.SessionPrefix(_rangeId))) _meta.Delete(batch, key);
        _sessions.Clear();
        foreach (var s in state.Sessions)
        {
            _sessions[s.ClientId] = (s.Sequence, s.Result);
            _meta.Put(batch, RangeStateKeys.Session(_rangeId, s.ClientId), EncodeSession(s.Sequence, s.Result));
        }
        if (IsMeta)
        {
            foreach (var (key, _) in _meta.List(RangeStateKeys.DirectoryPrefix)) _meta.Delete(batch, key);
            _directory.Clear();
            foreach (var d in state.Directory)
            {
                _directory[d.RangeId] = d;
                _meta.Put(batch, RangeStateKeys.DirectoryEntry(d.RangeId), d.ToByteArray());
            }
            _nextRangeId = state.NextRangeId;
            foreach (var (key, _) in _meta.List(RangeStateKeys.NodePrefix)) _meta.Delete(batch, key);
            _nodes.Clear();
            foreach (var n in state.Nodes)
            {
                _nodes[n.NodeId] = n;
                _meta.Put(batch, RangeStateKeys.Node(n.NodeId), n.ToByteArray());
            }
            _nodeChanges.AddRange(state.Nodes);
            _meta.Put(batch, RangeStateKeys.NextRangeId, BitConverter.GetBytes(_nextRangeId));
            _descriptorChanges.AddRange(state.Directory);
            RestoreSnapshots(batch, state);
        }
        else
        {
            _descriptorChanges.Add(Descriptor);
        }
    }

    /// <summary>The genesis snapshot state of a range that starts with <paramref name="descriptor"/> and nothing applied.</summary>
    public static byte[] GenesisState(RangeDescriptor descriptor, IEnumerable<RangeDescriptor>? directory = null, ulong nextRangeId = 0,
        IEnumerable<NodeInfo>? nodes = null)
    {
        var state = new RangeSnapshotState { Range = descriptor, LastApplied = new Proto.V1.Timestamp(), NextRangeId = nextRangeId };
        if (directory is not null) state.Directory.AddRange(directory);
        if (nodes is not null) state.Nodes.AddRange(nodes);
        return state.ToByteArray();
    }
}
