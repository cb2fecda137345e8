using Grpc.Core;
using Grpc.Net.Client;
using Kv.Proto.V1;

namespace Kv.Load;

/// <summary>
/// The Admin API of every endpoint, over channels of its own (not the SDK's). The endpoints are the nodes in
/// <c>--endpoints</c> order; a node is named by its position there (1-based), which the scripts make its node id.
/// </summary>
internal sealed class ClusterAdmin : IDisposable
{
    private readonly string[] _endpoints;
    private readonly GrpcChannel[] _channels;

    public ClusterAdmin(IReadOnlyList<string> endpoints)
    {
        _endpoints = endpoints.Select(Normalize).ToArray();
        _channels = _endpoints.Select(e => GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(1),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
            DisposeHttpClient = true,
        })).ToArray();
    }

    /// <summary>The endpoints as <c>http://host:port</c>, in node order.</summary>
    public IReadOnlyList<string> Endpoints => _endpoints;

    public Admin.AdminClient Node(int position) => new(_channels[position - 1]);

    /// <summary>The position (1-based) of <paramref name="endpoint"/> in the list, or 0 if it is not there.</summary>
    public int PositionOf(string? endpoint)
    {
        if (endpoint is null) return 0;
        return Array.IndexOf(_endpoints, Normalize(endpoint)) + 1;
    }

    /// <summary>Every range, from the first node that answers.</summary>
    public async Task<IReadOnlyList<RangeDescriptor>> ListRangesAsync(CancellationToken cancellationToken)
    {
        RpcException? last = null;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            foreach (int node in Enumerable.Range(1, _channels.Length))
            {
                try
                {
                    var response = await Node(node).ListRangesAsync(new ListRangesRequest(), deadline: DateTime.UtcNow.AddSeconds(5),
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                    return response.Ranges;
                }
                catch (RpcException e)
                {
                    last = e;
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
        throw new InvalidOperationException($"no node answered ListRanges: {last?.Status.Detail}", last);
    }

    /// <summary>NodeStatus of every node at once, each within <paramref name="within"/>; null for a node that did not answer.</summary>
    public Task<NodeStatusResponse?[]> StatusAsync(TimeSpan within, CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(1, _channels.Length).Select(async node =>
        {
            try
            {
                return await Node(node).NodeStatusAsync(new NodeStatusRequest(), deadline: DateTime.UtcNow + within,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                return (NodeStatusResponse?)null;
            }
        }));

    public static string Normalize(string endpoint) => new Uri(endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint).GetLeftPart(UriPartial.Authority);

    public void Dispose()
    {
        foreach (var c in _channels) c.Dispose();
    }
}
