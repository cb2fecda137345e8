namespace Kv.Server.Ranges;

/// <summary>
/// Where each node of the cluster is reached (its one gRPC endpoint). Filled from the configured members; shared
/// by the peer transport, node-to-node calls and the client API's error details.
/// </summary>
public sealed class NodeAddressBook
{
    private readonly Dictionary<ulong, Uri> _endpoints;

    /// <summary>Creates the book from (node id, endpoint) pairs.</summary>
    public NodeAddressBook(IEnumerable<KeyValuePair<ulong, Uri>> endpoints) => _endpoints = new(endpoints);

    /// <summary>The endpoint of a node, or null when unknown.</summary>
    public Uri? Find(ulong nodeId) => _endpoints.GetValueOrDefault(nodeId);

    /// <summary>The endpoint as clients are told it (no trailing slash), or empty when unknown.</summary>
    public string Display(ulong nodeId) => Find(nodeId)?.ToString().TrimEnd('/') ?? "";
}
