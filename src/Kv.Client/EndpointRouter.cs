using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Polly.CircuitBreaker;
using Stub = global::Kv.Proto.V1.Kv.KvClient;
using TxnStub = global::Kv.Proto.V1.Transactions.TransactionsClient;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

/// <summary>
/// Where to send the next attempt: for a key whose range is cached (<see cref="Ranges"/>), that range's cached
/// leader, else one of its replicas; otherwise the last leader learned, else the seeds in turn. Each endpoint
/// (<see cref="NodeEndpoint"/>) has a circuit breaker fed by its connection-level failures: replicas and seeds whose
/// breaker is open are skipped, unless every candidate is (then one is tried anyway); a leader the cluster named
/// whose breaker is open is tried once a second. Each endpoint owns one <see cref="GrpcChannel"/>, reused for every call.
/// Thread-safe; routing state is advisory (a stale choice costs one NotLeader round trip).
/// </summary>
internal sealed class EndpointRouter : IDisposable
{
    private readonly NodeEndpoint[] _seeds;
    private readonly string[] _seedAddresses;
    private readonly KvClientOptions _options;
    private readonly ConcurrentDictionary<string, NodeEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _normalized = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, NodeEndpoint> _leaderByRange = new();
    private volatile NodeEndpoint? _leader;
    private long _nextRefreshMs;
    private int _next;
    private int _nextReplica;
    private volatile bool _disposed;

    public EndpointRouter(IEnumerable<string> seeds, KvClientOptions options)
    {
        _options = options;
        _seedAddresses = seeds.Select(Normalize).Distinct(StringComparer.Ordinal).ToArray();
        if (_seedAddresses.Length == 0) throw new ArgumentException("At least one seed endpoint is required (e.g. http://127.0.0.1:7100).", nameof(seeds));
        _seeds = _seedAddresses.Select(Endpoint).ToArray();
    }

    /// <summary>The seed endpoints, normalized to <c>scheme://host:port</c>.</summary>
    public IReadOnlyList<string> Seeds => _seedAddresses;

    /// <summary>The leader endpoint learned last (of whichever range), the fallback for keys the range map cannot place; null if none.</summary>
    public string? Leader => _leader?.Address;

    /// <summary>The cached leader of <paramref name="rangeId"/>, if any.</summary>
    public string? LeaderOf(ulong rangeId) => _leaderByRange.GetValueOrDefault(rangeId)?.Address;

    /// <summary>The ranges learned from the cluster.</summary>
    public RangeCache Ranges { get; } = new();

    /// <summary>
    /// Whether the range map is due for a refresh from the cluster (at most once per second, so that a burst of
    /// misses costs one lookup).
    /// </summary>
    public bool ClaimRefresh()
    {
        long now = Environment.TickCount64;
        long due = Interlocked.Read(ref _nextRefreshMs);
        return now >= due && Interlocked.CompareExchange(ref _nextRefreshMs, now + 1000, due) == due;
    }

    /// <summary>
    /// Where the next attempt on <paramref name="key"/> goes (<paramref name="hasKey"/> false: no key, e.g. a reverse
    /// scan), with the key's cached range if the map has it.
    /// </summary>
    public Route Pick(ReadOnlySpan<byte> key, bool hasKey)
    {
        if (!hasKey || Ranges.Find(key) is not { } range) return new Route(Pick(), null, CachedLeader: false);
        if (_leaderByRange.TryGetValue(range.RangeId, out var leader) && Eligible(leader)) return new Route(leader, range, CachedLeader: true);
        int start = Volatile.Read(ref _next);
        for (int i = 0; i < range.Replicas.Count; i++)
        {
            var replica = range.Replicas[(int)((uint)(start + i) % (uint)range.Replicas.Count)];
            if (replica.Learner || replica.Endpoint.Length == 0) continue;
            var endpoint = Endpoint(NormalizeCached(replica.Endpoint));
            if (!endpoint.Breaker.Skipped(claimProbe: true)) return new Route(endpoint, range, CachedLeader: false);
        }
        return new Route(Pick(), range, CachedLeader: false);
    }

    /// <summary>
    /// Where a read that any replica may serve goes: the next voter of <paramref name="key"/>'s cached range in turn
    /// (learners are skipped: they may lag far behind), or the next seed when the map cannot place the key; endpoints
    /// whose breaker is open are passed over unless every one is. The turn is shared by every key, so that concurrent
    /// reads spread evenly over the nodes.
    /// </summary>
    public Route PickReplica(ReadOnlySpan<byte> key)
    {
        int start = Interlocked.Increment(ref _nextReplica);
        var range = Ranges.Find(key);
        if (range is not null)
        {
            for (int i = 0; i < range.Replicas.Count; i++)
            {
                var replica = range.Replicas[(int)((uint)(start + i) % (uint)range.Replicas.Count)];
                if (replica.Learner || replica.Endpoint.Length == 0) continue;
                var endpoint = Endpoint(NormalizeCached(replica.Endpoint));
                if (!endpoint.Breaker.Skipped(claimProbe: true)) return new Route(endpoint, range, CachedLeader: false);
            }
        }
        for (int i = 0; i < _seeds.Length; i++)
        {
            var seed = _seeds[(int)((uint)(start + i) % (uint)_seeds.Length)];
            if (!seed.Breaker.Skipped(claimProbe: true)) return new Route(seed, range, CachedLeader: false);
        }
        return new Route(Pick(), range, CachedLeader: false);
    }

    /// <summary>The endpoint for the next attempt when nothing is known about the key.</summary>
    public NodeEndpoint Pick()
    {
        if (_leader is { } leader && Eligible(leader)) return leader;
        int start = Volatile.Read(ref _next);
        for (int i = 0; i < _seeds.Length; i++)
        {
            var seed = _seeds[(int)((uint)(start + i) % (uint)_seeds.Length)];
            if (!seed.Breaker.Skipped(claimProbe: true)) return seed;
        }
        // Every breaker is open: try anyway rather than fail without trying.
        return _seeds[(int)((uint)start % (uint)_seeds.Length)];
    }

    /// <summary>
    /// Whether a leader the cluster named may be tried: its breaker is not skipping it, or it is but it was not tried
    /// within the last second (a node may be back before its break ends, and only the leader can serve; a dead one
    /// that the others still name until they elect anew costs one attempt a second).
    /// </summary>
    private static bool Eligible(NodeEndpoint leader) => !leader.Breaker.Skipped(claimProbe: true) || leader.Breaker.ClaimLeaderProbe();

    /// <summary>Whether some seed (or the leader) is not skipped by its circuit breaker.</summary>
    public bool AnyAlive() => (_leader is { } l && !l.Breaker.Skipped(claimProbe: false)) || _seeds.Any(s => !s.Breaker.Skipped(claimProbe: false));

    /// <summary>Moves the seed rotation on by one.</summary>
    public void Advance() => Interlocked.Increment(ref _next);

    /// <summary>Caches <paramref name="endpoint"/> as the leader of <paramref name="rangeId"/>.</summary>
    public void LeaderIs(ulong rangeId, string endpoint) => LeaderIs(rangeId, Endpoint(Normalize(endpoint)));

    /// <inheritdoc cref="LeaderIs(ulong, string)"/>
    public void LeaderIs(ulong rangeId, NodeEndpoint endpoint)
    {
        _leaderByRange[rangeId] = endpoint;
        _leader = endpoint;
    }

    /// <summary>Forgets <paramref name="endpoint"/> as a leader (it refused, failed, or did not know one).</summary>
    public void NotLeader(string endpoint)
    {
        if (_leader is { } leader && leader.Address == endpoint) _leader = null;
        foreach (var (range, ep) in _leaderByRange)
            if (ep.Address == endpoint) _leaderByRange.TryRemove(new KeyValuePair<ulong, NodeEndpoint>(range, ep));
    }

    /// <summary>
    /// Runs one attempt at <paramref name="endpoint"/> and tells its circuit breaker the outcome; the breaker counts
    /// connection-level failures (<see cref="IsConnectionFailure"/>). The breaker decides routing, not this call: an
    /// attempt routed to an open or probing endpoint (no other was left, a named leader is being probed, or the
    /// breaker opened meanwhile) is made anyway. Any answer from the node closes the breaker.
    /// </summary>
    public async Task<T> CallAsync<T>(NodeEndpoint endpoint, Func<NodeEndpoint, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        T result;
        try
        {
            result = await call(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            endpoint.Report(e);
            throw;
        }
        endpoint.Report(null);
        return result;
    }

    /// <summary>Whether <paramref name="endpoint"/>'s last attempt failed at the connection level, or its breaker is open: a hint naming it is suspect.</summary>
    public bool Suspect(string endpoint) =>
        _endpoints.TryGetValue(endpoint, out var e) && (e.Breaker.ConsecutiveFailures > 0 || e.Breaker.Skipped(claimProbe: false));

    /// <summary>Whether the attempt got no answer from a server: refused, reset, unreachable, or a connect timeout.</summary>
    public static bool IsConnectionFailure(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is not null;

    /// <summary>The stub over the (shared, lazily created) channel of <paramref name="endpoint"/> (normalized).</summary>
    public Stub Stub(string endpoint) => Endpoint(endpoint).Stub;

    /// <summary>The transactions stub over the (shared, lazily created) channel of <paramref name="endpoint"/> (normalized).</summary>
    public TxnStub TxnStub(string endpoint) => Endpoint(endpoint).TxnStub;

    /// <summary>The (shared, lazily created) channel of <paramref name="endpoint"/> (normalized).</summary>
    public GrpcChannel Channel(string endpoint) => Endpoint(endpoint).Channel;

    /// <summary>The endpoint at the normalized <paramref name="address"/>, created on first use.</summary>
    public NodeEndpoint Endpoint(string address)
    {
        if (_endpoints.TryGetValue(address, out var endpoint)) return endpoint;
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _endpoints.GetOrAdd(address, static (a, options) => new NodeEndpoint(a, options), _options);
    }

    /// <summary>Whether routing skips <paramref name="endpoint"/> now: its breaker is open (and the break is not over) or probing.</summary>
    internal bool IsSkipped(string endpoint) =>
        _endpoints.TryGetValue(Normalize(endpoint), out var e) && e.Breaker.Skipped(claimProbe: false);

    /// <summary>The state of <paramref name="endpoint"/>'s breaker (closed when it has none yet); isolated means opened by consecutive failures.</summary>
    internal CircuitState BreakerState(string endpoint) =>
        _endpoints.TryGetValue(Normalize(endpoint), out var e) ? e.Breaker.State : CircuitState.Closed;

    /// <summary>Whether <paramref name="endpoint"/>'s breaker is open (by ratio or by consecutive failures) or probing.</summary>
    internal bool IsOpen(string endpoint) => BreakerState(endpoint) != CircuitState.Closed;

    /// <summary>
    /// <see cref="Normalize"/>, remembered: routing by the range map normalizes the replica endpoints of a range on
    /// every call that has no cached leader for it, and a <see cref="Uri"/> parse per call showed up as 184 B per Get
    /// (bench/results/client-overhead.md). A cluster has few endpoints; past <see cref="NormalizedEndpointsMax"/> the
    /// cache stops growing rather than hold endpoints of nodes long gone.
    /// </summary>
    private string NormalizeCached(string endpoint) =>
        _normalized.TryGetValue(endpoint, out var normalized) ? normalized
        : _normalized.Count < NormalizedEndpointsMax ? _normalized.GetOrAdd(endpoint, Normalize)
        : Normalize(endpoint);

    private const int NormalizedEndpointsMax = 1024;

    /// <summary><c>host:port</c> or a URL to <c>scheme://host:port</c> (http when no scheme is given).</summary>
    public static string Normalize(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var text = endpoint.Trim();
        if (!text.Contains("://", StringComparison.Ordinal)) text = "http://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new ArgumentException($"'{endpoint}' is not an endpoint; write it as http://host:port or host:port.", nameof(endpoint));
        return uri.GetLeftPart(UriPartial.Authority);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var (_, endpoint) in _endpoints) endpoint.Dispose();
    }
}

/// <summary>
/// Where an attempt goes: <paramref name="Endpoint"/>; the key's range when the map has it; whether the endpoint is
/// that range's cached leader (else an answer from it shows it leads the range, and is worth caching).
/// </summary>
internal readonly record struct Route(NodeEndpoint Endpoint, Wire.RangeDescriptor? Range, bool CachedLeader);
