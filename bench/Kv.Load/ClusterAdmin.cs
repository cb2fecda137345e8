using Google.Protobuf;
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
    private const int SplitAttemptsMax = 20;

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

    /// <summary>
    /// Splits the key space at each of <paramref name="keys"/> that does not start a range yet (through node 1), one
    /// after another, in <see cref="SplitOrder"/>.
    /// </summary>
    public async Task SplitAtAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var existing = (await ListRangesAsync(cancellationToken).ConfigureAwait(false)).Select(r => r.StartKey.ToStringUtf8());
        foreach (var key in SplitOrder(keys, existing))
            await SplitAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The keys that start no range yet, highest first (byte order). A split keeps the left half in the existing
    /// group, which has a leader, and starts a new group for the right half, which has none until its first election
    /// (an election timeout: 1–2 s by default). In descending order each next split cuts the left half again, so no
    /// split waits for an election; in ascending order each one waited for the previous one's new group (measured: 7
    /// splits took 9.3 s instead of about 1).
    /// </summary>
    public static IReadOnlyList<string> SplitOrder(IEnumerable<string> keys, IEnumerable<string> existingStartKeys)
    {
        var existing = existingStartKeys.ToHashSet(StringComparer.Ordinal);
        return keys.Where(k => !existing.Contains(k)).Distinct(StringComparer.Ordinal).OrderDescending(StringComparer.Ordinal).ToArray();
    }

    private async Task SplitAsync(string key, CancellationToken cancellationToken)
    {
        var request = new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(key) };
        bool retried = false;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await Node(1).SplitRangeAsync(request, deadline: DateTime.UtcNow.AddSeconds(15), cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            // Transient: a node busy or electing (FAILED_PRECONDITION is a split refused mid-election).
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.FailedPrecondition
                && attempt < SplitAttemptsMax)
            {
                retried = true;
                Console.Error.WriteLine($"split at {key}: {e.StatusCode} ({e.Status.Detail}); retrying");
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
            }
            // An attempt whose answer was lost went through: the key already starts its range.
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument && retried
                && e.Status.Detail.Contains("already starts", StringComparison.Ordinal))
            {
                return;
            }
        }
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
