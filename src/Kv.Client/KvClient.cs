using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

/// <summary>
/// A client of a Kv cluster: thread-safe, meant to be created once per application and disposed at its end.
/// It sends each request to the leader of the key's range (learned from the nodes' NotLeader answers, starting from
/// the seed endpoints), retries what is safe to retry, and tags every write with a write id so that a retried write
/// applies once.
/// </summary>
/// <remarks>
/// Retried: UNAVAILABLE and NotLeader for every operation (writes with the same write id), DEADLINE_EXCEEDED for
/// reads only. Never retried: INVALID_ARGUMENT (<see cref="KvInvalidArgumentException"/>) and other errors.
/// Transactions: <see cref="BeginTransactionAsync"/> and <see cref="RunTransactionAsync(Func{KvTransaction, Task}, CancellationToken)"/>;
/// a transaction's reads are routed and retried like Get, its commit is retried only when it was not sent.
/// </remarks>
public sealed partial class KvClient : IAsyncDisposable
{
    private readonly KvClientOptions _options;
    private readonly EndpointRouter _router;
    private readonly ResiliencePipeline _pipeline;
    private readonly AttemptTimeout _firstAttempt;
    private readonly AttemptTimeout _laterAttempt;
    private readonly ILogger _logger;
    private readonly Channel<WriteLane> _lanes;
    private Task _rangeRefresh = Task.CompletedTask;
    private int _disposed;

    /// <summary>Creates a client for the cluster reachable at <paramref name="endpoints"/>.</summary>
    /// <param name="endpoints">Seed endpoints (<c>http://host:port</c> or <c>host:port</c>); any node of the cluster will do.</param>
    /// <param name="options">Settings; defaults when null.</param>
    public KvClient(IEnumerable<string> endpoints, KvClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        _options = options ?? new KvClientOptions();
        _options.Validate();
        _logger = _options.Logger ?? NullLogger.Instance;
        _router = new EndpointRouter(endpoints, _options);
        _laterAttempt = new AttemptTimeout(_options.PerCallTimeout, _options.TimeProvider);
        // The first attempt runs without the overall-deadline token (see InvokeAsync): its own timeout bounds it.
        _firstAttempt = _options.PerCallTimeout <= _options.OverallDeadline ? _laterAttempt : new AttemptTimeout(_options.OverallDeadline, _options.TimeProvider);
        _lanes = Channel.CreateBounded<WriteLane>(_options.WriteLanes);
        for (int i = 0; i < _options.WriteLanes; i++)
        {
            long id = (_options.ClientId - 1 + i) % long.MaxValue + 1; // 1..2^63-1, wraps skipping 0
            _lanes.Writer.TryWrite(new WriteLane(id));
        }
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, _options.RetryAttemptsMax),
                ShouldHandle = args => ValueTask.FromResult(
                    _options.RetryAttemptsMax > 0 && args.Outcome.Exception is RetryableAttemptException),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Exception is RetryableAttemptException { Immediate: true } ? TimeSpan.Zero : Backoff(args.AttemptNumber)),
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is RetryableAttemptException r)
                        Log.Retrying(_logger, r.Operation, r.Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, r.Error.Message);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Creates a client for the cluster reachable at <paramref name="endpoints"/> with default settings.</summary>
    /// <param name="endpoints">Seed endpoints (<c>http://host:port</c> or <c>host:port</c>).</param>
    public KvClient(params string[] endpoints) : this((IEnumerable<string>)endpoints, null) { }

    /// <summary>The client id of the first write lane (the one carried by writes when they do not overlap).</summary>
    public long ClientId => _options.ClientId;

    /// <summary>The seed endpoints, normalized.</summary>
    public IReadOnlyList<string> SeedEndpoints => _router.Seeds;

    /// <summary>The leader endpoint the client currently routes to, if it has learned one.</summary>
    public string? CachedLeaderEndpoint => _router.Leader;

    internal EndpointRouter Router => _router;

    // ---------------------------------------------------------------- Get

    /// <summary>Reads <paramref name="key"/> (linearizable). Returns null when the key does not exist.</summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    public Task<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        RunAsync<GetCall, Wire.GetResponse, KvEntry?>(new GetCall(this, new Wire.GetRequest { Key = ByteString.CopyFrom(key.Span) }), cancellationToken).AsTask();

    /// <summary>
    /// Reads <paramref name="key"/> with the given <paramref name="consistency"/>. Returns null when the key does not exist
    /// (for a serializable read: as far as the replica that answered knows).
    /// </summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="consistency">
    /// <see cref="KvReadConsistency.Linearizable"/> (as <see cref="GetAsync(ReadOnlyMemory{byte}, CancellationToken)"/>), or
    /// <see cref="KvReadConsistency.Serializable"/>: sent to the key's range's replicas in turn, each answering from its
    /// own applied state (possibly stale; a replica that cannot answer redirects the read to the leader).
    /// </param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    public Task<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, KvReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        var request = new Wire.GetRequest { Key = ByteString.CopyFrom(key.Span), Consistency = ToWire(consistency) };
        return RunAsync<GetCall, Wire.GetResponse, KvEntry?>(new GetCall(this, request), cancellationToken).AsTask();
    }

    /// <summary>Reads the UTF-8 key <paramref name="key"/>. Returns null when the key does not exist.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    public Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        GetAsync(Utf8(key), cancellationToken);

    /// <summary>Reads the UTF-8 key <paramref name="key"/> with the given <paramref name="consistency"/>; null when the key does not exist.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="consistency">Linearizable, or serializable (any replica, possibly stale).</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    public Task<KvEntry?> GetAsync(string key, KvReadConsistency consistency, CancellationToken cancellationToken = default) =>
        GetAsync(Utf8(key), consistency, cancellationToken);

    private static Wire.ReadConsistency ToWire(KvReadConsistency consistency) => consistency switch
    {
        KvReadConsistency.Linearizable => Wire.ReadConsistency.Linearizable,
        KvReadConsistency.Serializable => Wire.ReadConsistency.Serializable,
        _ => throw new ArgumentOutOfRangeException(nameof(consistency), consistency, "Linearizable or Serializable."),
    };

    /// <summary>Reads the UTF-8 key <paramref name="key"/> and decodes its value as UTF-8; null when absent.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    public async Task<string?> GetStringAsync(string key, CancellationToken cancellationToken = default) =>
        (await GetAsync(Utf8(key), cancellationToken).ConfigureAwait(false))?.ValueString;

    // ---------------------------------------------------------------- Put

    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/>; returns the version written.</summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="value">The value, at most 4 MiB.</param>
    /// <param name="cancellationToken">Cancels the write; a cancelled write may still apply.</param>
    public Task<KvVersion> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        var request = new Wire.PutRequest { Key = ByteString.CopyFrom(key.Span), Value = ByteString.CopyFrom(value.Span) };
        return WriteAsync("Put", request.Key.Memory, writeId => request.WriteId = writeId,
            async (endpoint, call) => ToVersion((await (endpoint.Bundler is { } bundler ? bundler.PutAsync(request, call)
                : endpoint.Stub.PutAsync(request, call).ResponseAsync).ConfigureAwait(false)).Version),
            cancellationToken);
    }

    /// <summary>Writes the UTF-8 <paramref name="value"/> under the UTF-8 <paramref name="key"/>; returns the version written.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="value">The value, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the write; a cancelled write may still apply.</param>
    public Task<KvVersion> PutAsync(string key, string value, CancellationToken cancellationToken = default) =>
        PutAsync(Utf8(key), Utf8(value), cancellationToken);

    // ---------------------------------------------------------------- Delete

    /// <summary>Deletes <paramref name="key"/>; returns whether it existed.</summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="cancellationToken">Cancels the delete; a cancelled delete may still apply.</param>
    public Task<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var request = new Wire.DeleteRequest { Key = ByteString.CopyFrom(key.Span) };
        return WriteAsync("Delete", request.Key.Memory, writeId => request.WriteId = writeId,
            async (endpoint, call) => (await (endpoint.Bundler is { } bundler ? bundler.DeleteAsync(request, call)
                : endpoint.Stub.DeleteAsync(request, call).ResponseAsync).ConfigureAwait(false)).Found,
            cancellationToken);
    }

    /// <summary>Deletes the UTF-8 <paramref name="key"/>; returns whether it existed.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the delete; a cancelled delete may still apply.</param>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        DeleteAsync(Utf8(key), cancellationToken);

    // ---------------------------------------------------------------- CompareAndSet

    /// <summary>
    /// Writes <paramref name="newValue"/> (or, when null, deletes the key) only if <paramref name="condition"/> holds.
    /// A failed condition is an answer (<see cref="KvCasResult.Succeeded"/> false, with the current entry), not an error.
    /// </summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="condition">What the key must be now: <see cref="KvCondition.Absent"/>, a version, or a value.</param>
    /// <param name="newValue">The value to write; null deletes the key.</param>
    /// <param name="cancellationToken">Cancels the call; a cancelled write may still apply.</param>
    public Task<KvCasResult> CompareAndSetAsync(ReadOnlyMemory<byte> key, KvCondition condition, ReadOnlyMemory<byte>? newValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var request = new Wire.CompareAndSetRequest { Key = ByteString.CopyFrom(key.Span) };
        switch (condition.Kind)
        {
            case KvConditionKind.Absent: request.ExpectAbsent = true; break;
            case KvConditionKind.Version:
                request.ExpectedVersion = new Wire.Timestamp { WallNanos = condition.ExpectedVersion.WallNanos, Logical = condition.ExpectedVersion.Logical };
                break;
            default: request.ExpectedValue = ByteString.CopyFrom(condition.ExpectedValue.Span); break;
        }
        if (newValue is { } v) request.NewValue = ByteString.CopyFrom(v.Span);
        return WriteAsync("CompareAndSet", request.Key.Memory, writeId => request.WriteId = writeId, async (endpoint, call) =>
        {
            var r = await endpoint.Stub.CompareAndSetAsync(request, call).ResponseAsync.ConfigureAwait(false);
            return r.Succeeded
                ? new KvCasResult(true, ToVersion(r.NewVersion), null)
                : new KvCasResult(false, null, r.Found ? new KvEntry(request.Key.Memory, r.CurrentValue.Memory, ToVersion(r.CurrentVersion)) : null);
        }, cancellationToken);
    }

    /// <summary>UTF-8 form of <see cref="CompareAndSetAsync(ReadOnlyMemory{byte}, KvCondition, ReadOnlyMemory{byte}?, CancellationToken)"/>.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="condition">What the key must be now.</param>
    /// <param name="newValue">The value to write (UTF-8); null deletes the key.</param>
    /// <param name="cancellationToken">Cancels the call; a cancelled write may still apply.</param>
    public Task<KvCasResult> CompareAndSetAsync(string key, KvCondition condition, string? newValue, CancellationToken cancellationToken = default) =>
        newValue is null
            ? CompareAndSetAsync(Utf8(key), condition, null, cancellationToken)
            : CompareAndSetAsync(Utf8(key), condition, (ReadOnlyMemory<byte>?)Utf8(newValue), cancellationToken);

    // ---------------------------------------------------------------- Scan

    /// <summary>
    /// The entries with keys in [<paramref name="startKey"/>, <paramref name="endKey"/>), ascending (or descending with
    /// <see cref="KvScanOptions.Reverse"/>), fetched page by page as the caller enumerates. Each page is linearizable;
    /// the pages together are not one snapshot.
    /// </summary>
    /// <param name="startKey">The first key (inclusive); empty: from the first key.</param>
    /// <param name="endKey">The end (exclusive); empty: to the last key.</param>
    /// <param name="options">Direction, page size, and a total limit.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public async IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> startKey, ReadOnlyMemory<byte> endKey, KvScanOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new KvScanOptions();
        if (options.PageSize < 0) throw new ArgumentOutOfRangeException(nameof(options), options.PageSize, "PageSize must be 0 (server default) or more.");
        var start = ByteString.CopyFrom(startKey.Span);
        var end = ByteString.CopyFrom(endKey.Span);
        long remaining = options.Limit > 0 ? options.Limit : long.MaxValue;
        while (true)
        {
            long page = options.PageSize > 0 ? options.PageSize : ScanDefaultPage;
            var request = new Wire.ScanRequest
            {
                StartKey = start,
                EndKey = end,
                Reverse = options.Reverse,
                Limit = remaining < page ? (uint)remaining : (uint)options.PageSize,
            };
            // A forward page starts in the range holding its start key; a reverse one is routed by the server.
            var response = await InvokeAsync("Scan", idempotent: true, options.Reverse ? null : request.StartKey.Memory,
                (stub, call) => stub.ScanAsync(request, call).ResponseAsync, cancellationToken).ConfigureAwait(false);
            foreach (var e in response.Entries)
            {
                yield return new KvEntry(e.Key.Memory, e.Value.Memory, ToVersion(e.Version));
                if (--remaining == 0) yield break;
            }
            if (response.ResumeKey.IsEmpty) yield break;
            if (options.Reverse) end = response.ResumeKey;
            else start = response.ResumeKey;
        }
    }

    /// <summary>UTF-8 form of <see cref="ScanAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, KvScanOptions?, CancellationToken)"/>.</summary>
    /// <param name="startKey">The first key (inclusive), UTF-8; empty: from the first key.</param>
    /// <param name="endKey">The end (exclusive), UTF-8; empty: to the last key.</param>
    /// <param name="options">Direction, page size, and a total limit.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<KvEntry> ScanAsync(string startKey, string endKey, KvScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanAsync(Utf8(startKey), Utf8(endKey), options, cancellationToken);

    /// <summary>The entries whose keys start with the UTF-8 <paramref name="prefix"/>.</summary>
    /// <param name="prefix">The key prefix, UTF-8, not empty.</param>
    /// <param name="options">Direction, page size, and a total limit.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<KvEntry> ScanPrefixAsync(string prefix, KvScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var start = Utf8(prefix);
        return ScanAsync(start, PrefixEnd(start), options, cancellationToken);
    }

    /// <summary>
    /// Closes every channel, after waiting (up to 2 s) for the publishes of transactions this client staged and
    /// committed. Calls in flight fail; later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        await DrainFinishesAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _router.Dispose();
    }

    // ---------------------------------------------------------------- machinery

    internal const long ScanDefaultPage = 1_000;

    /// <summary>
    /// Runs a write on a free write lane with one write id for all its attempts: a new sequence of that lane's client
    /// id, reused by every retry, so the range applies it at most once and answers a retry with the first answer.
    /// </summary>
    private async Task<T> WriteAsync<T>(
        string operation, ReadOnlyMemory<byte> key, Action<Wire.WriteId> setWriteId, Func<NodeEndpoint, CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        var lane = await _lanes.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            setWriteId(lane.NextWriteId());
            return await InvokeAtAsync(operation, idempotent: false, key, call, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lanes.Writer.TryWrite(lane);
        }
    }


    /// <summary>
    /// Starts loading the range map unless a load started less than a second ago (<see cref="EndpointRouter.ClaimRefresh"/>);
    /// or, when <paramref name="mapIsStale"/> (an answer showed a cached range wrong), unless a load is in flight.
    /// </summary>
    private void RefreshRangesInBackground(bool mapIsStale = false)
    {
        bool start = mapIsStale ? Volatile.Read(ref _rangeRefresh).IsCompleted : _router.ClaimRefresh();
        if (start) Volatile.Write(ref _rangeRefresh, RefreshRangesAsync());
    }

    /// <summary>
    /// Loads every range descriptor from some node, trying up to three (a dead one is skipped by its breaker next
    /// time). Best effort: routing works without it, just with redirects. Never throws.
    /// </summary>
    private async Task RefreshRangesAsync()
    {
        const int attemptsMax = 3;
        for (int attempt = 1; ; attempt++)
        {
            var endpoint = _router.Pick();
            try
            {
                var response = await _router.CallAsync(endpoint, (e, token) => new Wire.Admin.AdminClient(e.Channel).ListRangesAsync(
                    new Wire.ListRangesRequest(), deadline: DateTime.UtcNow + _options.PerCallTimeout, cancellationToken: token).ResponseAsync,
                    CancellationToken.None).ConfigureAwait(false);
                _router.Ranges.Update(response.Ranges);
                Log.RangesLoaded(_logger, response.Ranges.Count, endpoint.Address);
                return;
            }
            catch (RpcException e) when (attempt < attemptsMax && e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                _router.NotLeader(endpoint.Address);
                _router.Advance();
            }
            catch (Exception e) when (e is RpcException or ObjectDisposedException or OperationCanceledException)
            {
                Log.RangesNotLoaded(_logger, e.Message);
                return;
            }
        }
    }

    /// <summary>The exception for a failed attempt: a <see cref="RetryableAttemptException"/> to retry, else the final error.</summary>
    private Exception Classify(RpcException e, string operation, string endpoint, bool idempotent, ReadOnlyMemory<byte>? routingKey = null)
    {
        var status = e.GetRpcStatus();
        switch (e.StatusCode)
        {
            case StatusCode.InvalidArgument:
                {
                    var detail = status?.GetDetail<Wire.InvalidArgument>();
                    return new KvInvalidArgumentException(detail?.Field ?? "", detail?.Reason ?? e.Status.Detail, e);
                }
            case StatusCode.FailedPrecondition when status?.GetDetail<Wire.NotLeader>() is { } notLeader:
                {
                    _router.NotLeader(endpoint);
                    // The node routed the key to another range than the map says: the map is stale there.
                    if (routingKey is { } key && _router.Ranges.Find(key.Span) is { } cached && cached.RangeId != notLeader.RangeId)
                    {
                        _router.Ranges.Evict(cached.RangeId);
                        RefreshRangesInBackground(mapIsStale: true);
                    }
                    if (notLeader.LeaderEndpoint.Length > 0)
                    {
                        string leader = EndpointRouter.Normalize(notLeader.LeaderEndpoint);
                        _router.LeaderIs(notLeader.RangeId, leader);
                        Log.LeaderLearned(_logger, notLeader.RangeId, leader, endpoint);
                        // A leader that just failed to connect (or whose breaker is open) is likely gone, and the
                        // others name it until they elect anew: back off first.
                        // A hint naming a node that already refused in this call is stale (the nodes are electing): the
                        // retry loop backs off then too (Redirects).
                        return new RetryableAttemptException(operation, endpoint, immediate: leader != endpoint && !_router.Suspect(leader),
                            new KvUnavailableException($"{operation}: the nodes kept redirecting to other leaders ({leader} last); the cluster may be electing. Retry later.", e),
                            notLeader: true, namedLeader: leader);
                    }
                    _router.Advance();
                    return new RetryableAttemptException(operation, endpoint, immediate: false,
                        new KvUnavailableException($"{operation}: range {notLeader.RangeId} has no leader (an election may be in progress, or no quorum is reachable). Retry later; check that a majority of nodes is up.", e),
                        notLeader: true);
                }
            case StatusCode.FailedPrecondition when status?.GetDetail<Wire.RangeMoved>() is { } moved:
                _router.NotLeader(endpoint);
                _router.Advance();
                // The error carries the range as the node knows it now: route the retry by it at once.
                if (moved.Descriptor_ is { } descriptor) _router.Ranges.Update([descriptor]);
                return new RetryableAttemptException(operation, endpoint, immediate: moved.Descriptor_ is not null,
                    new KvException(KvErrorCode.RangeMoved, $"{operation}: the key's range moved and the client could not find its new home. Retry later.", e));
            case StatusCode.FailedPrecondition when e.Status.Detail.Contains("write_id", StringComparison.Ordinal):
                return new KvException(KvErrorCode.StaleWriteId, $"{operation}: {e.Status.Detail} Two clients may share a client id: give each KvClient its own.", e);
            case StatusCode.Unavailable:
                {
                    // No answer from a server (refused or broken connection): its breaker counted it; try another node now.
                    bool transport = EndpointRouter.IsConnectionFailure(e);
                    _router.NotLeader(endpoint);
                    _router.Advance();
                    return new RetryableAttemptException(operation, endpoint, immediate: transport && _router.AnyAlive(),
                        new KvUnavailableException($"{operation}: no node could serve the request (last: {endpoint}: {e.Status.Detail})."
                            + (idempotent ? "" : " The write may have applied: read the key, or repeat the write.")
                            + " Check that the endpoints are right and a majority of nodes is up.", e)
                        { WriteMayHaveApplied = !idempotent });
                }
            case StatusCode.DeadlineExceeded:
                {
                    var error = new KvException(KvErrorCode.DeadlineExceeded,
                        $"{operation} at {endpoint} exceeded the per-call timeout of {_options.PerCallTimeout.TotalSeconds:0.###} s"
                        + (idempotent ? "." : "; the write may still apply: read the key to learn its outcome.")
                        + " Raise KvClientOptions.PerCallTimeout if the cluster is slow.", e)
                    { WriteMayHaveApplied = !idempotent };
                    if (!idempotent) return error;
                    _router.NotLeader(endpoint);
                    _router.Advance();
                    return new RetryableAttemptException(operation, endpoint, immediate: false, error);
                }
            case StatusCode.Aborted when status?.GetDetail<Wire.TxnConflict>() is not null:
                return Conflict(e, status);
            case StatusCode.DataLoss when idempotent:
                _router.NotLeader(endpoint);
                _router.Advance();
                return new RetryableAttemptException(operation, endpoint, immediate: false,
                    new KvException(KvErrorCode.DataLoss, $"{operation}: {endpoint} found corrupt data ({e.Status.Detail}). Report it; other replicas may serve.", e));
            default:
                var (code, advice) = e.StatusCode switch
                {
                    StatusCode.ResourceExhausted => (KvErrorCode.ResourceExhausted, "Split the request into smaller ones."),
                    StatusCode.Unimplemented => (KvErrorCode.Unimplemented, "Use a feature the server supports."),
                    StatusCode.DataLoss => (KvErrorCode.DataLoss, "Report it; the write may not have applied."),
                    StatusCode.Internal => (KvErrorCode.Internal, "Report it with the server's logs."),
                    StatusCode.Cancelled => (KvErrorCode.Unavailable, "The server cancelled the call; retry it."),
                    _ => (KvErrorCode.Unknown, "Report it."),
                };
                return new KvException(code, $"{operation} failed at {endpoint}: {e.StatusCode}: {e.Status.Detail} {advice}", e)
                { WriteMayHaveApplied = !idempotent && code is KvErrorCode.Unavailable or KvErrorCode.Internal or KvErrorCode.Unknown };
        }
    }

    /// <summary>
    /// The delay before retry <paramref name="attempt"/> + 1 (0-based): <see cref="KvClientOptions.RetryBackoff"/>
    /// doubled per attempt up to <see cref="KvClientOptions.RetryBackoffMax"/>, jittered to between half of that and all
    /// of it. Half is kept so that a run of retries spans a predictable time (an election's length, say); Polly's
    /// decorrelated jitter may draw delays near zero, which could spend every retry within a fraction of a second.
    /// </summary>
    private TimeSpan Backoff(int attempt)
    {
        double ceiling = Math.Min(_options.RetryBackoffMax.Ticks, _options.RetryBackoff.Ticks * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromTicks((long)(ceiling * (0.5 + 0.5 * Random.Shared.NextDouble())));
    }

    internal static KvVersion ToVersion(Wire.Timestamp? t) => t is null ? default : new KvVersion(t.WallNanos, t.Logical);

    internal static byte[] Utf8(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return Encoding.UTF8.GetBytes(s);
    }

    /// <summary>The smallest key above every key starting with <paramref name="prefix"/>; empty when there is none.</summary>
    internal static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] == 0xFF) continue;
            var end = prefix[..(i + 1)].ToArray();
            end[i]++;
            return end;
        }
        return [];
    }

    /// <summary>A client id that carries one write at a time, and its last sequence.</summary>
    private sealed class WriteLane(long clientId)
    {
        private long _sequence;

        public Wire.WriteId NextWriteId() =>
            new() { ClientId = (ulong)clientId, Sequence = (ulong)Interlocked.Increment(ref _sequence) };
    }

    /// <summary>
    /// A failed attempt worth retrying; <see cref="Error"/> is what the caller gets if retries run out. <see cref="Immediate"/>:
    /// retry without a backoff. <see cref="NotLeader"/>: the node answered that it does not lead the key's range, naming
    /// <see cref="NamedLeader"/> when it knew one.
    /// </summary>
    private sealed class RetryableAttemptException(
        string operation, string endpoint, bool immediate, KvException error, bool notLeader = false, string? namedLeader = null) : Exception(error.Message, error)
    {
        public string Operation { get; } = operation;
        public string Endpoint { get; } = endpoint;
        public bool Immediate { get; } = immediate;
        public KvException Error { get; } = error;
        public bool NotLeader { get; } = notLeader;
        public string? NamedLeader { get; } = namedLeader;

        /// <summary>The same failure, retried after a backoff.</summary>
        public RetryableAttemptException WithBackoff() =>
            Immediate ? new RetryableAttemptException(Operation, Endpoint, immediate: false, Error, NotLeader, NamedLeader) : this;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Kv {Operation} at {Endpoint} failed; retry {Attempt} in {DelayMs} ms: {Reason}")]
        public static partial void Retrying(ILogger logger, string operation, string endpoint, int attempt, double delayMs, string reason);

        [LoggerMessage(2, LogLevel.Debug, "Kv range {RangeId} is led at {Leader} (told by {Endpoint})")]
        public static partial void LeaderLearned(ILogger logger, ulong rangeId, string leader, string endpoint);

        [LoggerMessage(5, LogLevel.Debug, "Kv client loaded {Count} range descriptors from {Endpoint}")]
        public static partial void RangesLoaded(ILogger logger, int count, string endpoint);

        [LoggerMessage(6, LogLevel.Debug, "Kv client could not load the range descriptors: {Reason}")]
        public static partial void RangesNotLoaded(ILogger logger, string reason);
    }
}
