using Grpc.Core;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Storage.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Admin;

/// <summary>The admin API (proto/kv/v1/admin.proto): node status, the range directory, and splits.</summary>
public sealed class AdminService(
    ReplicaHost host, RangeDirectory directory, NodeAddressBook addresses, RangeSplitter splitter, RangeDataOps data, Peers.PeerLocalNode localNode)
    : Wire.Admin.AdminBase
{
    /// <inheritdoc />
    public override Task<Wire.NodeStatusResponse> NodeStatus(Wire.NodeStatusRequest request, ServerCallContext context)
    {
        var response = new Wire.NodeStatusResponse { NodeId = localNode.NodeId };
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

    private Wire.RangeDescriptor WithEndpoints(Wire.RangeDescriptor d)
    {
        var copy = d.Clone();
        foreach (var r in copy.Replicas) r.Endpoint = addresses.Display(r.NodeId);
        return copy;
    }
}
