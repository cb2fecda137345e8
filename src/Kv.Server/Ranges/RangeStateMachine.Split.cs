using Google.Protobuf;
using Kv.Proto.V1;
using RocksDbSharp;

namespace Kv.Server.Ranges;

public sealed partial class RangeStateMachine
{
    private readonly List<RangeSplitOff> _splitOffs = [];
    private readonly List<RangeDescriptor> _descriptorChanges = [];

    /// <summary>Ranges split off by the last <see cref="Apply"/>; the host creates their replicas after writing the batch.</summary>
    public IReadOnlyList<RangeSplitOff> TakeSplitOffs()
    {
        var taken = _splitOffs.ToArray();
        _splitOffs.Clear();
        return taken;
    }

    /// <summary>Descriptors changed by the last <see cref="Apply"/> (splits here, directory updates in the meta range).</summary>
    public IReadOnlyList<RangeDescriptor> TakeDescriptorChanges()
    {
        var taken = _descriptorChanges.ToArray();
        _descriptorChanges.Clear();
        return taken;
    }

    /// <summary>
    /// Splits the range at the command's key. The checks depend only on the log, so every replica reaches the same
    /// verdict at the same slot. The new range needs no data copy: a node keeps every range's versions in one
    /// column family keyed by user key, so the right half's data is already where the new replica reads it.
    /// Its applied state starts at slot 0 with this range's last timestamp (versions keep ordering as the log
    /// does) and a copy of the client sessions (a retried write that this range applied before the split must not
    /// apply again in the new one).
    /// </summary>
    private RangeCommandResult Split(WriteBatch batch, long slot, RangeSplit split)
    {
        var key = split.SplitKey.Span;
        if (split.ExpectedGeneration != Descriptor.Generation)
            return new RangeCommandResult { Error = $"range {_rangeId} is at generation {Descriptor.Generation}, not {split.ExpectedGeneration}: stale split" };
        if (key.IsEmpty || key.SequenceCompareTo(Span.Start) <= 0 || !Span.Contains(key))
            return new RangeCommandResult { Error = $"split key is not strictly inside range {_rangeId} {Span}" };
        if (split.NewRangeId < RangeIds.FirstAllocated || split.NewRangeId == _rangeId)
            return new RangeCommandResult { Error = $"invalid new range id {split.NewRangeId}" };

        var left = Descriptor.Clone();
        left.EndKey = ByteString.CopyFrom(key);
        left.Generation++;
        var right = Descriptor.Clone();
        right.RangeId = split.NewRangeId;
        right.StartKey = ByteString.CopyFrom(key);
        right.Generation = left.Generation;

        Descriptor = left;
        Span = Descriptors.SpanOf(left);
        _meta.Put(batch, RangeStateKeys.State(_rangeId), new RangeState { Range = left }.ToByteArray());
        // Transactions' records and locks of the right half go with it (their staged versions already are there).
        bool rightExists = _meta.TryGet(RangeStateKeys.State(right.RangeId), out _);
        var rightTxns = _txns.SplitOff(batch, key, right.RangeId, writeRight: !rightExists);
        // A replay of the log after a rebuild meets splits whose new range already runs here: leave it alone.
        if (!rightExists)
        {
            _meta.Put(batch, RangeStateKeys.State(right.RangeId), new RangeState { Range = right }.ToByteArray());
            _meta.Put(batch, RangeStateKeys.Applied(right.RangeId), EncodeApplied(0, LastAppliedTimestamp));
            foreach (var (client, (sequence, result)) in _sessions)
                _meta.Put(batch, RangeStateKeys.Session(right.RangeId, client), EncodeSession(sequence, result));
            var genesis = CaptureState(right);
            genesis.Txn = rightTxns;
            _splitOffs.Add(new RangeSplitOff(slot, right, genesis.ToByteArray()));
        }
        _descriptorChanges.Add(left);
        _descriptorChanges.Add(right);
        return new RangeCommandResult { Succeeded = true, Descriptors = { left, right } };
    }
}
