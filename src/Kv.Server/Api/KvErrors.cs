using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// The client API's non-OK statuses. Each is a <see cref="RpcException"/> whose trailers carry a
/// <c>google.rpc.Status</c> (grpc-status-details-bin) with the detail a client acts on (errors.proto).
/// </summary>
internal static class KvErrors
{
    /// <summary>INVALID_ARGUMENT with an <c>InvalidArgument</c> detail naming the field and why.</summary>
    public static RpcException InvalidArgument(string field, string reason) =>
        Build(StatusCode.InvalidArgument, $"{field}: {reason}", new Wire.InvalidArgument { Field = field, Reason = reason });

    /// <summary>FAILED_PRECONDITION with a <c>NotLeader</c> detail: retry at the leader, or after a backoff when unknown.</summary>
    public static RpcException NotLeader(RangeRoute route, int? leaderHint)
    {
        var detail = new Wire.NotLeader { RangeId = route.RangeId };
        string message;
        if (leaderHint is { } leader && leader > 0)
        {
            detail.LeaderNodeId = (ulong)leader;
            detail.LeaderEndpoint = route.EndpointOf((ulong)leader);
            message = $"This node does not lead range {route.RangeId}; node {leader}"
                + (detail.LeaderEndpoint.Length > 0 ? $" at {detail.LeaderEndpoint}" : "") + " does.";
        }
        else
        {
            message = $"Range {route.RangeId} has no known leader (an election may be in progress); retry after a short backoff.";
        }
        return Build(StatusCode.FailedPrecondition, message, detail);
    }

    /// <summary>FAILED_PRECONDITION with a <c>RangeMoved</c> detail carrying the descriptor this node knows now.</summary>
    public static RpcException RangeMoved(RangeRoute route, string message) =>
        Build(StatusCode.FailedPrecondition, message, new Wire.RangeMoved { Descriptor_ = route.ToDescriptor() });

    /// <summary>
    /// FAILED_PRECONDITION with a <c>RangeMoved</c> detail for a key whose range this node does not host: the client
    /// refreshes its descriptor and goes to one of the range's replicas.
    /// </summary>
    public static RpcException RangeNotHosted(RangeRoute route) => RangeMoved(route,
        $"Range {route.RangeId} is not hosted on this node (it moved, or this node's view of it is stale); "
        + "refresh the range descriptor and retry at one of its replicas.");

    /// <summary>A status without details.</summary>
    public static RpcException Plain(StatusCode code, string message) => Build(code, message, detail: null);

    /// <summary>
    /// The error of operation <paramref name="index"/> of a batch: same code and details, its message prefixed with
    /// the operation's position and how many operations before it were applied.
    /// </summary>
    public static RpcException InBatch(RpcException error, int index)
    {
        var status = error.GetRpcStatus() ?? new Google.Rpc.Status { Code = (int)error.StatusCode, Message = error.Status.Detail };
        status.Message = $"operations[{index}] failed ({index} operation(s) before it were applied, none after): {status.Message}";
        return status.ToRpcException();
    }

    private static RpcException Build(StatusCode code, string message, IMessage? detail)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        if (detail is not null) status.Details.Add(Any.Pack(detail));
        return status.ToRpcException();
    }
}
