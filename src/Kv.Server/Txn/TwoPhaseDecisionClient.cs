using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Peers;
using Kv.Txn;
using Kv.Txn.Coordination;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Txn;

/// <summary>Asks coordinating nodes for two-phase decisions; this node's own are answered without the network.</summary>
internal sealed class TwoPhaseDecisionClient(ulong nodeId, PeerChannels channels, Func<TxnCoordinator> local) : ITwoPhaseDecisionSource
{
    public async Task<(TwoPhaseDecision Decision, StorageTimestamp CommitTs)> QueryAsync(ulong coordinatorNodeId, ByteString txnId, CancellationToken cancellationToken)
    {
        if (coordinatorNodeId == nodeId) return await local().TwoPhaseDecisionAsync(txnId, cancellationToken).ConfigureAwait(false);
        var channel = channels.For(coordinatorNodeId);
        if (channel is null) return (TwoPhaseDecision.Pending, StorageTimestamp.Zero);
        try
        {
            var answer = await new Wire.TwoPhaseCoordinator.TwoPhaseCoordinatorClient(channel)
                .QueryDecisionAsync(new Wire.QueryDecisionRequest { TxnId = txnId }, deadline: DateTime.UtcNow.AddSeconds(1), cancellationToken: cancellationToken)
                .ResponseAsync.ConfigureAwait(false);
            return answer.Decision switch
            {
                Wire.QueryDecisionResponse.Types.Decision.Committed => (TwoPhaseDecision.Committed, TxnWire.ToStorage(answer.CommitTimestamp)),
                Wire.QueryDecisionResponse.Types.Decision.Aborted => (TwoPhaseDecision.Aborted, StorageTimestamp.Zero),
                _ => (TwoPhaseDecision.Pending, StorageTimestamp.Zero),
            };
        }
        catch (RpcException)
        {
            // The coordinator is down or unreachable: a two-phase participant can only wait for it.
            return (TwoPhaseDecision.Pending, StorageTimestamp.Zero);
        }
    }
}
