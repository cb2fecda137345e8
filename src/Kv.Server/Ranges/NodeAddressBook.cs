using System.Collections.Concurrent;

namespace Kv.Server.Ranges;

/// <summary>
/// Where each node of the cluster is reached (its one gRPC endpoint). Starts from the configured members and
/// follows the meta range's node registry, so that a node added later becomes reachable everywhere. Shared by the
/// peer transport, node-to-node calls and the client API's error details; thread-safe.
/// </summary>
public sealed class NodeAddressBook
{
    private readonly ConcurrentDictionary<ulong, Uri> _endpoints;

    /// <summary>Creates the book from (node id, endpoint) pairs.</summary>
    public NodeAddressBook(IEnumerable<KeyValuePair<ulong, Uri>> endpoints) => _endpoints = new(endpoints);

    /// <summary>The endpoint of a node, or null when unknown.</summary>
    public Uri? Find(ulong nodeId) => _endpoints.GetValueOrDefault(nodeId);

    /// <summary>The endpoint as clients are told it (no trailing slash), or empty when unknown.</summary>
    public string Display(ulong nodeId) => Find(nodeId)?.ToString().TrimEnd('/') ?? "";

    /// <summary>Every known node, by id.</summary>
    public IReadOnlyList<KeyValuePair<ulong, Uri>> All => _endpoints.OrderBy(e => e.Key).ToArray();

    /// <summary>Records nodes (registry entries with an unparsable endpoint are skipped).</summary>
    public void Update(IEnumerable<Proto.V1.NodeInfo> nodes)
    {
        foreach (var n in nodes)
            if (n.NodeId > 0 && Uri.TryCreate(n.Endpoint, UriKind.Absolute, out var uri)) _endpoints[n.NodeId] = uri;
    }
}
