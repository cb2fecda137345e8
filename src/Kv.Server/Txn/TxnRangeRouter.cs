using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Txn.Coordination;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Txn;

/// <summary>The node's ranges as transactions use them: routed by the node's directory, proposed through <see cref="RangeProposer"/>.</summary>
internal sealed class TxnRangeRouter(RangeDirectory directory, RangeProposer proposer) : ITxnRanges
{
    public (ulong RangeId, byte[] Start, byte[]? End) Locate(ReadOnlySpan<byte> key)
    {
        var range = directory.Find(key) ?? throw new InvalidOperationException("no range holds the key yet (is the cluster initialised?)");
        return (range.RangeId, range.StartKey.ToByteArray(), range.EndKey.IsEmpty ? null : range.EndKey.ToByteArray());
    }

    public Task<Wire.RangeCommandResult> ProposeAsync(ulong rangeId, Wire.RangeCommand command, CancellationToken cancellationToken) =>
        proposer.ProposeIdempotentAsync(rangeId, command, cancellationToken);
}
