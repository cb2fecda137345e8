using Google.Protobuf;
using Grpc.Core;
using Kv.Paxos;
using Kv.Server.Clock;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Replication;

/// <summary>
/// The receiving end of <see cref="RangeProposer"/>: proposes a forwarded command (stamped with this node's clock:
/// the leaseholder's clock orders the range's writes) or membership change at this node's replica. Not for clients.
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
        return await Translate(request.RangeId, () =>
            host.ProposeAsync(request.RangeId, new Command(request.ClientId, request.Sequence, command.ToByteArray()), context.CancellationToken))
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<Wire.ChangeMembershipResponse> ChangeMembership(Wire.ChangeMembershipRequest request, ServerCallContext context)
    {
        if (request.NodeId is 0 or > int.MaxValue) throw new RpcException(new Status(StatusCode.InvalidArgument, $"invalid node id {request.NodeId}"));
        var change = new MembershipChange(request.Kind switch
        {
            Wire.ChangeMembershipRequest.Types.Kind.AddLearner => MembershipChangeKind.AddLearner,
            Wire.ChangeMembershipRequest.Types.Kind.PromoteLearner => MembershipChangeKind.PromoteLearner,
            Wire.ChangeMembershipRequest.Types.Kind.Remove => MembershipChangeKind.Remove,
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, $"unknown kind {request.Kind}")),
        }, (int)request.NodeId);
        await Translate(request.RangeId, async () =>
        {
            await host.ProposeMembershipAsync(request.RangeId, change, context.CancellationToken).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        return new Wire.ChangeMembershipResponse();
    }

    private static async Task<T> Translate<T>(ulong rangeId, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (NotLeaderException e)
        {
            var status = new Google.Rpc.Status { Code = (int)StatusCode.FailedPrecondition, Message = e.Message };
            status.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(new Wire.NotLeader { RangeId = rangeId, LeaderNodeId = e.LeaderHint is > 0 ? (ulong)e.LeaderHint.Value : 0 }));
            throw status.ToRpcException();
        }
        catch (RangeNotHostedException e)
        {
            throw new RpcException(new Status(StatusCode.NotFound, e.Message));
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.Aborted, e.Message));
        }
    }
}
