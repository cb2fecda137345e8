using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Cluster;

/// <summary>One node as <c>status</c> reports it (also the JSON shape of <c>status</c>'s <c>nodes</c>).</summary>
/// <param name="NodeId">Its id; 0 when only its endpoint is known (no node answered ListNodes).</param>
/// <param name="Endpoint">Its URL.</param>
/// <param name="Up">Whether it answered NodeStatus.</param>
/// <param name="Error">Why not, when down.</param>
/// <param name="Version">Its server version.</param>
/// <param name="UptimeMs">How long it has been serving.</param>
/// <param name="DataDirectory">Its data directory.</param>
/// <param name="DataDirectoryBytes">Bytes of every file under it (and under the node's separate WAL directory, if any).</param>
/// <param name="Replicas">Range replicas it hosts (the meta range included).</param>
/// <param name="Leading">Ranges it leads.</param>
public sealed record NodeReport(
    ulong NodeId, string Endpoint, bool Up, string? Error, string? Version, long? UptimeMs, string? DataDirectory, long? DataDirectoryBytes,
    int? Replicas, int? Leading);

/// <summary>Every node's answer to NodeStatus, asked in parallel; a node that does not answer is reported down.</summary>
public sealed record ClusterSnapshot(IReadOnlyList<(Wire.NodeInfo Node, Wire.NodeStatusResponse? Status, string? Error)> Nodes)
{
    /// <summary>Asks ListNodes of any node, then NodeStatus of each. With no node answering, every endpoint is down.</summary>
    public static async Task<ClusterSnapshot> TakeAsync(AdminCalls admin, IReadOnlyList<Uri> endpoints, CancellationToken cancellationToken)
    {
        IReadOnlyList<Wire.NodeInfo> nodes;
        try
        {
            nodes = (await admin.AnyAsync((c, o) => c.ListNodesAsync(new Wire.ListNodesRequest(), o).ResponseAsync, null, cancellationToken)
                .ConfigureAwait(false)).Nodes.OrderBy(n => n.NodeId).ToArray();
        }
        catch (ClusterUnreachableException)
        {
            nodes = endpoints.Select(e => new Wire.NodeInfo { Endpoint = e.ToString().TrimEnd('/') }).ToArray();
        }
        var answers = await Task.WhenAll(nodes.Select(async n =>
        {
            if (n.NodeId == 0) return (n, (Wire.NodeStatusResponse?)null, (string?)"unreachable");
            try
            {
                var status = await admin.OneAsync(new Uri(n.Endpoint), (c, o) => c.NodeStatusAsync(new Wire.NodeStatusRequest(), o).ResponseAsync,
                    admin.PerNodeTimeout, cancellationToken).ConfigureAwait(false);
                return (n, status, null);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                return (n, null, AdminCalls.Describe(e));
            }
        })).ConfigureAwait(false);
        return new ClusterSnapshot(answers);
    }

    /// <summary>Whether any node answered.</summary>
    public bool AnyUp => Nodes.Any(n => n.Status is not null);

    /// <summary>The nodes as <c>status</c> shows them.</summary>
    public IReadOnlyList<NodeReport> Reports() => Nodes.Select(n => n.Status is { } s
        ? new NodeReport(n.Node.NodeId, n.Node.Endpoint, true, null, s.ServerVersion, s.UptimeMs, s.DataDirectory, s.DataDirectoryBytes,
            s.Replicas.Count, s.Replicas.Count(r => r.IsLeader))
        : new NodeReport(n.Node.NodeId, n.Node.Endpoint, false, n.Error, null, null, null, null, null, null)).ToArray();
}
