using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Polly;
using Polly.CircuitBreaker;
using Stub = global::Kv.Proto.V1.Kv.KvClient;
using TxnStub = global::Kv.Proto.V1.Transactions.TransactionsClient;

namespace Kv.Client;

/// <summary>
/// Where to send the next attempt: for a key whose range is cached (<see cref="Ranges"/>), that range's cached
/// leader, else one of its replicas; otherwise the last leader learned, else the seeds in turn. Each endpoint has a
/// circuit breaker (Polly) fed by its connection-level failures: replicas and seeds whose breaker is open are
/// skipped, unless every candidate is (then one is tried anyway); a leader the cluster named whose breaker is open is
/// tried once a second. Owns one <see cref="GrpcChannel"/> per endpoint, reused for every call.
/// Thread-safe; routing state is advisory (a stale choice costs one NotLeader round trip).
/// </summary>
internal sealed class EndpointRouter : IDisposable
{
    private readonly string[] _seeds;
    private readonly KvClientOptions _options;
    private readonly ConcurrentDictionary<string, (GrpcChannel Channel, Stub Stub, TxnStub TxnStub)> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _normalized = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, EndpointBreaker> _breakers = new(StringComparer.Ordinal);
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
            if (_leaderByRange.TryGetValue(range.RangeId, out var leader) && Eligible(leader)) return leader;
            int start = Volatile.Read(ref _next);
            for (int i = 0; i < range.Replicas.Count; i++)
            {
                var replica = range.Replicas[(int)((uint)(start + i) % (uint)range.Replicas.Count)];
                if (replica.Learner || replica.Endpoint.Length == 0) continue;
                var endpoint = NormalizeCached(replica.Endpoint);
                if (!Skipped(endpoint)) return endpoint;
            }
        }
        return Pick();
    }

    /// <summary>The endpoint for the next attempt when nothing is known about the key.</summary>
    public string Pick()
    {
        if (_leader is { } leader && Eligible(leader)) return leader;
        int start = Volatile.Read(ref _next);
        for (int i = 0; i < _seeds.Length; i++)
        {
            var seed = _seeds[(int)((uint)(start + i) % (uint)_seeds.Length)];
            if (!Skipped(seed)) return seed;
        }
        // Every breaker is open: try anyway rather than fail without trying.
        return _seeds[(int)((uint)start % (uint)_seeds.Length)];
    }

    /// <summary>
    /// Whether a leader the cluster named may be tried: its breaker is not skipping it, or it is but it was not tried
    /// within the last second (a node may be back before its break ends, and only the leader can serve; a dead one
    /// that the others still name until they elect anew costs one attempt a second).
    /// </summary>
    private bool Eligible(string leader) =>
        !_breakers.TryGetValue(leader, out var breaker) || !breaker.Skipped(claimProbe: true) || breaker.ClaimLeaderProbe();

    /// <summary>Whether some seed (or the leader) is not skipped by its circuit breaker.</summary>
    public bool AnyAlive() => (_leader is { } l && !IsSkipped(l)) || _seeds.Any(s => !IsSkipped(s));

    /// <summary>Moves the seed rotation on by one.</summary>
    public void Advance() => Interlocked.Increment(ref _next);

    /// <summary>Caches <paramref name="endpoint"/> as the leader of <paramref name="rangeId"/>.</summary>
    public void LeaderIs(ulong rangeId, string endpoint)
    {
        endpoint = Normalize(endpoint);
        _leaderByRange[rangeId] = endpoint;
        _leader = endpoint;
    }

    /// <summary>Forgets <paramref name="endpoint"/> as a leader (it refused, failed, or did not know one).</summary>
    public void NotLeader(string endpoint)
    {
        if (_leader == endpoint) _leader = null;
        foreach (var (range, ep) in _leaderByRange)
            if (ep == endpoint) _leaderByRange.TryRemove(new KeyValuePair<ulong, string>(range, ep));
    }

    /// <summary>
    /// Runs one attempt at <paramref name="endpoint"/> and tells its circuit breaker the outcome; the breaker counts
    /// connection-level failures (<see cref="IsConnectionFailure"/>). The breaker decides routing, not this call: an
    /// attempt routed to an open or probing endpoint (no other was left, a named leader is being probed, or the
    /// breaker opened meanwhile) is made anyway. Any answer from the node closes the breaker.
    /// </summary>
    public async Task<T> CallAsync<T>(string endpoint, Func<string, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        T result;
        try
        {
            result = await call(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            await ReportAsync(endpoint, e).ConfigureAwait(false);
            throw;
        }
        await ReportAsync(endpoint, null).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Tells <paramref name="endpoint"/>'s circuit breaker how an attempt there ended: <paramref name="failure"/> null
    /// when it answered, else its error. An error status is an answer too (the node is up); only connection-level
    /// failures count against the node.
    /// </summary>
    public async ValueTask ReportAsync(string endpoint, RpcException? failure)
    {
        var breaker = Breaker(endpoint);
        if (failure is not null && IsConnectionFailure(failure))
        {
            await breaker.RecordAsync(failure).ConfigureAwait(false);
            await breaker.FailedAsync().ConfigureAwait(false);
            return;
        }
        await breaker.RecordAsync(null).ConfigureAwait(false);
        await breaker.AnsweredAsync().ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="endpoint"/>'s last attempt failed at the connection level, or its breaker is open: a hint naming it is suspect.</summary>
    public bool Suspect(string endpoint) =>
        _breakers.TryGetValue(endpoint, out var breaker) && (breaker.ConsecutiveFailures > 0 || breaker.Skipped(claimProbe: false));

    /// <summary>Whether the attempt got no answer from a server: refused, reset, unreachable, or a connect timeout.</summary>
    public static bool IsConnectionFailure(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is not null;

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
                    ConnectTimeout = options.ConnectTimeout < options.PerCallTimeout ? options.ConnectTimeout : options.PerCallTimeout,
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

    /// <summary>Whether routing skips <paramref name="endpoint"/> now: its breaker is open (and the break is not over) or probing.</summary>
    internal bool IsSkipped(string endpoint) =>
        _breakers.TryGetValue(Normalize(endpoint), out var breaker) && breaker.Skipped(claimProbe: false);

    /// <summary>The state of <paramref name="endpoint"/>'s breaker (closed when it has none yet); isolated means opened by consecutive failures.</summary>
    internal CircuitState BreakerState(string endpoint) =>
        _breakers.TryGetValue(Normalize(endpoint), out var breaker) ? breaker.State.CircuitState : CircuitState.Closed;

    /// <summary>Whether <paramref name="endpoint"/>'s breaker is open (by ratio or by consecutive failures) or probing.</summary>
    internal bool IsOpen(string endpoint) =>
        _breakers.TryGetValue(Normalize(endpoint), out var breaker) && breaker.State.CircuitState != CircuitState.Closed;

    /// <summary>As <see cref="IsSkipped"/>, for routing: the caller that finds a break over takes the one probe it allows.</summary>
    private bool Skipped(string endpoint) => _breakers.TryGetValue(endpoint, out var breaker) && breaker.Skipped(claimProbe: true);

    private EndpointBreaker Breaker(string endpoint) =>
        _breakers.GetOrAdd(endpoint, static (_, options) => new EndpointBreaker(options), _options);

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
        _breakers.Clear();
        foreach (var (_, (channel, _, _)) in _channels) channel.Dispose();
        _channels.Clear();
    }

    /// <summary>
    /// One endpoint's circuit breaker: a Polly pipeline with a failure-ratio breaker over connection-level failures
    /// (a flaky node), which this class also opens at once after
    /// <see cref="KvClientOptions.CircuitBreakerConsecutiveFailures"/> failures in a row (a dead node: a ratio would
    /// first have to outweigh the successes of its last sampling window), by isolating it through Polly's manual
    /// control. It keeps the end of the current break, which Polly does not expose, so that routing knows when to
    /// let one probe through: Polly's own half-open attempt, or, when isolated, one attempt outside the breaker
    /// that closes it on an answer.
    /// </summary>
    private sealed class EndpointBreaker
    {
        private readonly KvClientOptions _options;
        private readonly CircuitBreakerManualControl _control = new();
        private long _openUntilUtcTicks;
        private int _consecutiveFailures;
        private long _leaderProbeDueUtcTicks;

        public EndpointBreaker(KvClientOptions options)
        {
            _options = options;
            Pipeline = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions
                {
                    FailureRatio = options.CircuitBreakerFailureRatio,
                    MinimumThroughput = options.CircuitBreakerMinimumThroughput,
                    SamplingDuration = options.CircuitBreakerSamplingDuration,
                    BreakDuration = options.CircuitBreakerBreakDuration,
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is RpcException e && IsConnectionFailure(e)),
                    StateProvider = State,
                    ManualControl = _control,
                    OnOpened = args =>
                    {
                        if (!args.IsManual) BreakUntil(Now + args.BreakDuration.Ticks);
                        return default;
                    },
                })
                .Build();
        }

        public ResiliencePipeline Pipeline { get; }

        public CircuitBreakerStateProvider State { get; } = new();

        public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

        private long Now => _options.TimeProvider.GetUtcNow().UtcTicks;

        /// <summary>
        /// Open within its break, or probing (half-open: one attempt at a time). An isolated breaker whose break is
        /// over allows one probe: the caller that claims it (<paramref name="claimProbe"/>) pushes the break on, so
        /// that the others keep skipping it until the probe's outcome is known.
        /// </summary>
        public bool Skipped(bool claimProbe)
        {
            switch (State.CircuitState)
            {
                case CircuitState.HalfOpen:
                    return true;
                case CircuitState.Open:
                    return Now < Interlocked.Read(ref _openUntilUtcTicks); // then Polly lets one attempt through
                case CircuitState.Isolated:
                    long until = Interlocked.Read(ref _openUntilUtcTicks), now = Now;
                    if (now < until) return true;
                    return claimProbe && Interlocked.CompareExchange(ref _openUntilUtcTicks, now + _options.CircuitBreakerBreakDuration.Ticks, until) != until;
                default:
                    return false;
            }
        }

        /// <summary>Claims the once-a-second attempt at a named leader whose breaker is open.</summary>
        public bool ClaimLeaderProbe()
        {
            long now = Now, due = Interlocked.Read(ref _leaderProbeDueUtcTicks);
            return now >= due && Interlocked.CompareExchange(ref _leaderProbeDueUtcTicks, now + TimeSpan.TicksPerSecond, due) == due;
        }

        /// <summary>
        /// Feeds an attempt's outcome (null: the node answered) to the ratio breaker, after the attempt. The breaker
        /// never holds a call back itself (routing skips open endpoints; an attempt routed to one is made anyway), so
        /// the pipeline only keeps its books. Fed synchronously like this it allocates nothing; running every call
        /// inside it cost about 1 KB per call (bench/results/client-overhead.md).
        /// </summary>
        public async ValueTask RecordAsync(RpcException? failure)
        {
            var context = ResilienceContextPool.Shared.Get();
            try
            {
                await Pipeline.ExecuteOutcomeAsync(
                    static (_, failure) => ValueTask.FromResult(failure is null ? Outcome.FromResult(true) : Outcome.FromException<bool>(failure)),
                    context, failure).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        /// <summary>The node answered (a result or an error status): it is up; close the breaker if it is not closed.</summary>
        public async Task AnsweredAsync()
        {
            Volatile.Write(ref _consecutiveFailures, 0);
            if (State.CircuitState == CircuitState.Closed) return;
            await _control.CloseAsync().ConfigureAwait(false);
        }

        /// <summary>A connection-level failure: after enough in a row, open the breaker now (isolate) for a break.</summary>
        public async Task FailedAsync()
        {
            int failures = Interlocked.Increment(ref _consecutiveFailures);
            int threshold = _options.CircuitBreakerConsecutiveFailures;
            switch (State.CircuitState)
            {
                case CircuitState.Isolated:
                    BreakUntil(Now + _options.CircuitBreakerBreakDuration.Ticks); // a probe failed: another break
                    break;
                case CircuitState.Closed or CircuitState.HalfOpen when threshold > 0 && failures >= threshold:
                    BreakUntil(Now + _options.CircuitBreakerBreakDuration.Ticks);
                    await _control.IsolateAsync().ConfigureAwait(false);
                    break;
            }
        }

        private void BreakUntil(long utcTicks) => Interlocked.Exchange(ref _openUntilUtcTicks, utcTicks);
    }
}
