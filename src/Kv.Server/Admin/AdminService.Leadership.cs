using Grpc.Core;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Admin;

public sealed partial class AdminService
{
    /// <summary>How long the old leader waits to see the target lead before answering DEADLINE_EXCEEDED.</summary>
    private static readonly TimeSpan TransferWait = TimeSpan.FromSeconds(5);

    /// <summary>How often an unanswered transfer is asked again (the TimeoutNow message may have been dropped).</summary>
    private static readonly TimeSpan TransferRetryInterval = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public override async Task<Wire.TransferLeaderResponse> TransferLeader(Wire.TransferLeaderRequest request, ServerCallContext context)
    {
        var voters = VotersOf(request.RangeId)
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"range {request.RangeId} is unknown; list the ranges with ListRanges (or `kvctl ranges`)"));
        if (!voters.Contains(request.NodeId))
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"node {request.NodeId} is not a voter of range {request.RangeId} (voters: {string.Join(", ", voters)})"));
        try
        {
            bool already = await proposer.ForwardAsync(request.RangeId,
                ct => TransferHereAsync(request.RangeId, request.NodeId, ct),
                (channel, ct) => TransferThereAsync(channel, request, ct),
                context.CancellationToken).ConfigureAwait(false);
            return new Wire.TransferLeaderResponse { LeaderNodeId = request.NodeId, AlreadyLeader = already };
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (TimeoutException e)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, e.Message));
        }
    }

    /// <inheritdoc />
    public override Task<Wire.RemoveNodeResponse> RemoveNode(Wire.RemoveNodeRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented,
            "removing a node is not supported by this server yet: its replicas cannot be moved to other nodes first. "
            + "Stop the node instead; its ranges keep a majority on the other nodes."));

    /// <summary>The voters of a range: from the directory, or for the meta range from this node's replica.</summary>
    private HashSet<ulong>? VotersOf(ulong rangeId)
    {
        if (rangeId == RangeIds.Meta)
            return host.ConfigurationOf(rangeId)?.Voters.Select(v => (ulong)v).ToHashSet();
        return directory.Get(rangeId)?.Replicas.Where(r => !r.Learner).Select(r => r.NodeId).ToHashSet();
    }

    /// <summary>
    /// At the leader: asks the replica to hand over, then waits until it sees the target lead. Returns true when the
    /// target led already. Throws <see cref="NotLeaderException"/> to send the call on to the leader.
    /// </summary>
    private async Task<bool> TransferHereAsync(ulong rangeId, ulong target, CancellationToken cancellationToken)
    {
        if (!host.Hosts(rangeId)) throw new RangeNotHostedException(rangeId, localNode.NodeId);
        var status = host.Status(rangeId);
        if (target == localNode.NodeId)
            return status.IsLeader ? true : throw new NotLeaderException(rangeId, status.LeaderHint);
        var deadline = DateTime.UtcNow + TransferWait;
        await host.TransferLeadershipAsync(rangeId, target, cancellationToken).ConfigureAwait(false);
        var askAgain = DateTime.UtcNow + TransferRetryInterval;
        while (true)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            status = host.Status(rangeId);
            if (!status.IsLeader && status.LeaderHint == (int)target) return false;
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException(
                    $"node {target} did not take over range {rangeId} within {TransferWait.TotalSeconds:0} s (leader now: "
                    + $"{(status.IsLeader ? $"node {localNode.NodeId}" : status.LeaderHint is { } l ? $"node {l}" : "unknown")}; "
                    + "the target may be down or far behind); try again");
            if (status.IsLeader && DateTime.UtcNow >= askAgain)
            {
                await host.TransferLeadershipAsync(rangeId, target, cancellationToken).ConfigureAwait(false);
                askAgain = DateTime.UtcNow + TransferRetryInterval;
            }
        }
    }

    private static async Task<bool> TransferThereAsync(Grpc.Net.Client.GrpcChannel channel, Wire.TransferLeaderRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await new Wire.Admin.AdminClient(channel).TransferLeaderAsync(request,
                deadline: DateTime.UtcNow + TransferWait + TimeSpan.FromSeconds(5), cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
            return response.AlreadyLeader;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.DeadlineExceeded)
        {
            // Final answers of the leader: passed on, not retried.
            throw e.StatusCode == StatusCode.InvalidArgument ? new ArgumentException(e.Status.Detail) : new TimeoutException(e.Status.Detail);
        }
    }
}
