using System.Collections.Concurrent;
using Grpc.Net.Client;
using Stub = global::Kv.Proto.V1.Kv.KvClient;
using TxnStub = global::Kv.Proto.V1.Transactions.TransactionsClient;

namespace Kv.Client;

/// <summary>
/// Where to send the next attempt: for a key whose range is cached (<see cref="Ranges"/>), that range's cached
/// leader, else one of its replicas; otherwise the last leader learned, else the seeds in turn; always skipping
/// endpoints that recently refused a connection. Owns one <see cref="GrpcChannel"/> per endpoint, reused for every call.
/// Thread-safe; routing state is advisory (a stale choice costs one NotLeader round trip).
/// </summary>
internal sealed class EndpointRouter : IDisposable
{
    private readonly string[] _seeds;
    private readonly KvClientOptions _options;
    private readonly ConcurrentDictionary<string, (GrpcChannel Channel, Stub Stub, TxnStub TxnStub)> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _deadUntilMs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, string> _leaderByRange = new();
    private volatile string? _leader;
    private long _nextRefreshMs;
    private int _next;
    private bool _disposed;

    public EndpointRouter(IEnumerable<string> seeds, KvClientOptions options)
    {
        _seeds = seeds.Select(Normalize).Distinct(StringComparer.Ordinal).ToArray();
        if (_seeds.Length == 0) throw new ArgumentException("At least one seed endpoint is required (e.g. http://127.0.0.1:7100).", nameof(seeds));
        _options = options;
    }

    /// <summary>The seed endpoints, normalized to <c>scheme://host:port</c>.</summary>
    public IReadOnlyList<string> Seeds => _seeds;

    /// <summary>The leader endpoint learned last (of whichever range), the fallback for keys the range map cannot place; null if none.</summary>
    public string? Leader => _leader;

    /// <summary>The cached leader of <paramref name="rangeId"/>, if any.</summary>
    public string? LeaderOf(ulong rangeId) => _leaderByRange.GetValueOrDefault(rangeId);

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

    /// <summary>The endpoint for the next attempt on <paramref name="key"/> (null: no key, e.g. a reverse scan).</summary>
    public string Pick(ReadOnlySpan<byte> key, bool hasKey)
    {
        if (hasKey && Ranges.Find(key) is { } range)
        {
            if (_leaderByRange.TryGetValue(range.RangeId, out var leader) && !IsDead(leader)) return leader;
            int start = Volatile.Read(ref _next);
            for (int i = 0; i < range.Replicas.Count; i++)
            {
                var replica = range.Replicas[(int)((uint)(start + i) % (uint)range.Replicas.Count)];
                if (replica.Learner || replica.Endpoint.Length == 0) continue;
                var endpoint = Normalize(replica.Endpoint);
                if (!IsDead(endpoint)) return endpoint;
            }
        }
        return Pick();
    }

    /// <summary>The endpoint for the next attempt when nothing is known about the key.</summary>
    public string Pick()
    {
        if (_leader is { } leader && !IsDead(leader)) return leader;
        int start = Volatile.Read(ref _next);
        for (int i = 0; i < _seeds.Length; i++)
        {
            var seed = _seeds[(int)((uint)(start + i) % (uint)_seeds.Length)];
            if (!IsDead(seed)) return seed;
        }
        return _seeds[(int)((uint)start % (uint)_seeds.Length)];
    }

    /// <summary>Whether some seed (or the leader) is not in its dead cooldown.</summary>
    public bool AnyAlive() => (_leader is { } l && !IsDead(l)) || _seeds.Any(s => !IsDead(s));

    /// <summary>Moves the seed rotation on by one.</summary>
    public void Advance() => Interlocked.Increment(ref _next);

    /// <summary>Caches <paramref name="endpoint"/> as the leader of <paramref name="rangeId"/>.</summary>
    public void LeaderIs(ulong rangeId, string endpoint)
    {
        endpoint = Normalize(endpoint);
        _leaderByRange[rangeId] = endpoint;
        _deadUntilMs.TryRemove(endpoint, out _);
        _leader = endpoint;
    }

    /// <summary>Forgets <paramref name="endpoint"/> as a leader (it refused, failed, or did not know one).</summary>
    public void NotLeader(string endpoint)
    {
        if (_leader == endpoint) _leader = null;
        foreach (var (range, ep) in _leaderByRange)
            if (ep == endpoint) _leaderByRange.TryRemove(new KeyValuePair<ulong, string>(range, ep));
    }

    /// <summary>Skips <paramref name="endpoint"/> for the cooldown: it refused a connection.</summary>
    public void MarkDead(string endpoint)
    {
        _deadUntilMs[endpoint] = Environment.TickCount64 + (long)_options.DeadEndpointCooldown.TotalMilliseconds;
        NotLeader(endpoint);
    }

    /// <summary>The stub over the (shared, lazily created) channel of <paramref name="endpoint"/>.</summary>
    public Stub Stub(string endpoint) => Entry(endpoint).Stub;

    /// <summary>The transactions stub over the (shared, lazily created) channel of <paramref name="endpoint"/>.</summary>
    public TxnStub TxnStub(string endpoint) => Entry(endpoint).TxnStub;

    /// <summary>The (shared, lazily created) channel of <paramref name="endpoint"/>.</summary>
    public GrpcChannel Channel(string endpoint) => Entry(endpoint).Channel;

    private (GrpcChannel Channel, Stub Stub, TxnStub TxnStub) Entry(string endpoint)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _channels.GetOrAdd(endpoint, static (e, options) =>
        {
            var uri = new Uri(e);
            var channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions
            {
                HttpHandler = options.HttpHandlerFactory?.Invoke(uri) ?? new SocketsHttpHandler
                {
                    EnableMultipleHttp2Connections = true,
                    ConnectTimeout = options.PerCallTimeout,
                    PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                    KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                    KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                },
                DisposeHttpClient = true,
                MaxReceiveMessageSize = options.ReceiveMessageBytesMax,
                ThrowOperationCanceledOnCancellation = true,
            });
            return (channel, new Stub(channel), new TxnStub(channel));
        }, _options);
    }

    /// <summary>Whether <paramref name="endpoint"/> is being skipped now (it refused a connection within the cooldown).</summary>
    internal bool IsSkipped(string endpoint) => IsDead(Normalize(endpoint));

    private bool IsDead(string endpoint) =>
        _deadUntilMs.TryGetValue(endpoint, out long until) && Environment.TickCount64 < until;

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
        foreach (var (_, (channel, _, _)) in _channels) channel.Dispose();
        _channels.Clear();
    }
}
