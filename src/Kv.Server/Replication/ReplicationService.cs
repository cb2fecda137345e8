using Google.Protobuf;
using Grpc.Core;
using Kv.Paxos;
using Kv.Server.Clock;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Replication;

/// <summary>
/// The receiving end of <see cref="RangeProposer"/>: proposes a forwarded command at this node's replica, stamped
/// with this node's clock (the leaseholder's clock orders the range's writes). Not for clients.
/// </summary>
public sealed class ReplicationService(ReplicaHost host, HybridLogicalClock clock) : Wire.Replication.ReplicationBase
{
    /// <inheritdoc />
    public override async Task<Wire.RangeCommandResult> Propose(Wire.ProposeRequest request, ServerCallContext context)
    {
        if (request.Command is null) throw new RpcException(new Status(StatusCode.InvalidArgument, "command is required"));
        var command = request.Command.Clone();
        var now = await clock.NowAsync(context.CancellationToken).ConfigureAwait(false);
        command.Timestamp = new Wire.Timestamp { WallNanos = now.WallNanos, Logical = now.Logical };
        try
        {
            return await host.ProposeAsync(request.RangeId, new Command(request.ClientId, request.Sequence, command.ToByteArray()), context.CancellationToken)
                .ConfigureAwait(false);
        }
        catch (NotLeaderException e)
        {
            var status = new Google.Rpc.Status { Code = (int)StatusCode.FailedPrecondition, Message = e.Message };
            status.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(new Wire.NotLeader { RangeId = request.RangeId, LeaderNodeId = e.LeaderHint is > 0 ? (ulong)e.LeaderHint.Value : 0 }));
            throw status.ToRpcException();
        }
        catch (RangeNotHostedException e)
        {
            throw new RpcException(new Status(StatusCode.NotFound, e.Message));
        }
    }
}
