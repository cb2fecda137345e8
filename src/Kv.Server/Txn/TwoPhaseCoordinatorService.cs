using Grpc.Core;
using Kv.Txn;
using Kv.Txn.Coordination;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Txn;

/// <summary>Answers other nodes' questions about the two-phase transactions this node coordinates.</summary>
public sealed class TwoPhaseCoordinatorService(TxnCoordinator coordinator) : Wire.TwoPhaseCoordinator.TwoPhaseCoordinatorBase
{
    /// <inheritdoc />
    public override async Task<Wire.QueryDecisionResponse> QueryDecision(Wire.QueryDecisionRequest request, ServerCallContext context)
    {
        if (request.TxnId.Length != Kv.Storage.Mvcc.TxnId.Size) throw new RpcException(new Status(StatusCode.InvalidArgument, "txn_id: 16 bytes"));
        var (decision, commitTs) = await coordinator.TwoPhaseDecisionAsync(request.TxnId, context.CancellationToken).ConfigureAwait(false);
        return new Wire.QueryDecisionResponse
        {
            Decision = decision switch
            {
                TwoPhaseDecision.Committed => Wire.QueryDecisionResponse.Types.Decision.Committed,
                TwoPhaseDecision.Aborted => Wire.QueryDecisionResponse.Types.Decision.Aborted,
                _ => Wire.QueryDecisionResponse.Types.Decision.Pending,
            },
            CommitTimestamp = TxnWire.ToWire(commitTs),
        };
    }
}
