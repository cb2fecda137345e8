using System.Reflection;
using Grpc.Core;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Storage.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Admin;

/// <summary>The admin API (proto/kv/v1/admin.proto): node status, the range directory, splits, nodes and leadership transfers.</summary>
public sealed partial class AdminService(
    ReplicaHost host, RangeDirectory directory, NodeAddressBook addresses, RangeSplitter splitter, RangeDataOps data, Peers.PeerLocalNode localNode,
    RangeProposer proposer, NodeFacts facts)
    : Wire.Admin.AdminBase
{
    /// <inheritdoc />
    public override Task<Wire.ListNodesResponse> ListNodes(Wire.ListNodesRequest request, ServerCallContext context)
    {
        var response = new Wire.ListNodesResponse();
        response.Nodes.AddRange(Nodes());
        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public override async Task<Wire.AddNodeResponse> AddNode(Wire.AddNodeRequest request, ServerCallContext context)
    {
        var node = request.Node ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "node is required"));
        if (node.NodeId is 0 or > int.MaxValue)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"node.node_id must be in 1..{int.MaxValue}, got {node.NodeId}"));
        if (!Uri.TryCreate(node.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"node.endpoint must be an absolute http(s) URL, got '{node.Endpoint}'"));
        var known = addresses.Find(node.NodeId);
        if (known is not null && known != endpoint)
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"node id {node.NodeId} already belongs to {addresses.Display(node.NodeId)}; node ids are never reused"));
        var registered = new Wire.NodeInfo { NodeId = node.NodeId, Endpoint = endpoint.ToString().TrimEnd('/') };
        // Record the endpoint first, so that every node can reach the newcomer once the meta range adds it.
        var update = new Wire.MetaUpdate();
        update.Nodes.Add(registered);
        var result = await proposer.ProposeAsync(RangeIds.Meta, new Wire.RangeCommand { MetaUpdate = update }, context.CancellationToken).ConfigureAwait(false);
        if (result.Error.Length > 0) throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the meta range refused the node: {result.Error}"));
        addresses.Update([registered]);
        await proposer.ChangeMembershipAsync(RangeIds.Meta, Wire.ChangeMembershipRequest.Types.Kind.AddLearner, node.NodeId, context.CancellationToken)
            .ConfigureAwait(false);
        var response = new Wire.AddNodeResponse();
        response.Nodes.AddRange(Nodes());
        return response;
    }

    private IEnumerable<Wire.NodeInfo> Nodes() =>
        addresses.All.Select(e => new Wire.NodeInfo { NodeId = e.Key, Endpoint = e.Value.ToString().TrimEnd('/') });

    /// <inheritdoc />
    public override Task<Wire.NodeStatusResponse> NodeStatus(Wire.NodeStatusRequest request, ServerCallContext context)
    {
        var response = new Wire.NodeStatusResponse
        {
            NodeId = localNode.NodeId,
            ServerVersion = ServerVersion,
            UptimeMs = (long)facts.Uptime.TotalMilliseconds,
            DataDirectory = facts.DataDirectory,
            DataDirectoryBytes = facts.DataDirectoryBytes,
        };
        foreach (var r in host.Replicas())
        {
            long bytes = 0;
            if (r.RangeId != RangeIds.Meta)
            {
                var span = Descriptors.SpanOf(r.Descriptor);
                bytes = data.ApproximateSizeBytes(new RangeSpan(span.Start, span.End ?? []));
            }
            response.Replicas.Add(new Wire.ReplicaStatus
            {
                Range = WithEndpoints(r.Descriptor),
                IsLeader = r.IsLeader,
                LeaderNodeId = r.LeaderHint is > 0 ? (ulong)r.LeaderHint.Value : 0,
                ChosenPrefix = r.ChosenPrefix,
                AppliedUpTo = r.AppliedUpTo,
                LogEntries = r.LogEntries,
                ApproximateBytes = bytes,
                Quiescent = r.Quiescent,
                TxnLocks = r.TxnLocks,
            });
        }
        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public override Task<Wire.ListRangesResponse> ListRanges(Wire.ListRangesRequest request, ServerCallContext context)
    {
        var response = new Wire.ListRangesResponse();
        response.Ranges.AddRange(directory.All.Select(WithEndpoints));
        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public override async Task<Wire.SplitRangeResponse> SplitRange(Wire.SplitRangeRequest request, ServerCallContext context)
    {
        try
        {
            var (left, right) = await splitter.SplitAsync(request.SplitKey.ToByteArray(), context.CancellationToken).ConfigureAwait(false);
            return new Wire.SplitRangeResponse { Left = WithEndpoints(left), Right = WithEndpoints(right) };
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }

    private static readonly string ServerVersion =
        typeof(AdminService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private Wire.RangeDescriptor WithEndpoints(Wire.RangeDescriptor d)
    {
        var copy = d.Clone();
        foreach (var r in copy.Replicas) r.Endpoint = addresses.Display(r.NodeId);
        return copy;
    }
}
