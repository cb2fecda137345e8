using System.Net.Http;
using System.Net.Sockets;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

// Transactions: begin, the retried body, and the calls a KvTransaction makes (read, scan, commit).
public sealed partial class KvClient
{
    /// <summary>
    /// Begins a transaction: gets its read timestamp from a node of the cluster. Use it with <c>await using</c>, call
    /// <see cref="KvTransaction.CommitAsync"/> at the end, and on <see cref="KvTransactionConflictException"/> begin a
    /// new one and run the whole transaction again (<see cref="RunTransactionAsync(Func{KvTransaction, Task}, KvTransactionOptions?, CancellationToken)"/> does that for you).
    /// </summary>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the call and its retries.</param>
    public Task<KvTransaction> BeginTransactionAsync(KvTransactionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KvTransactionOptions();
        options.Validate();
        return BeginAttemptAsync(options, options.LocksReads(conflicts: 0), cancellationToken);
    }

    private async Task<KvTransaction> BeginAttemptAsync(KvTransactionOptions options, bool lockReads, CancellationToken cancellationToken)
    {
        // A read-only transaction as of a given version needs no round trip to begin.
        if (options.ReadOnly && options.ReadTimestamp is { } at)
            return new KvTransaction(this, new Wire.Timestamp { WallNanos = at.WallNanos, Logical = at.Logical }, options,
                options.AttemptTimeout is { } t ? new CancellationTokenSource(t) : null);
        var attemptTimeout = options.AttemptTimeout is { } timeout ? new CancellationTokenSource(timeout) : null;
        try
        {
            var token = cancellationToken;
            using var linked = attemptTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
            if (linked is not null) token = linked.Token;
            Wire.BeginTransactionResponse response;
            try
            {
                response = await InvokeCoreAsync("BeginTransaction", idempotent: true, routingKey: null,
                    (endpoint, call) => _router.TxnStub(endpoint).BeginAsync(new Wire.BeginTransactionRequest(), call).ResponseAsync,
                    (e, endpoint) => Classify(e, "BeginTransaction", endpoint, idempotent: true), token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && attemptTimeout is { IsCancellationRequested: true })
            {
                throw new KvException(KvErrorCode.DeadlineExceeded,
                    $"The transaction's attempt timeout of {options.AttemptTimeout!.Value.TotalSeconds:0.###} s passed while it began. Raise KvTransactionOptions.AttemptTimeout.", e);
            }
            if (response.ReadTimestamp is null)
                throw new KvException(KvErrorCode.Internal, "BeginTransaction: the server answered without a read timestamp. Report it.");
            return new KvTransaction(this, response.ReadTimestamp, options, attemptTimeout, lockReads);
        }
        catch
        {
            attemptTimeout?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> in a new transaction and commits it; when the commit conflicts, runs the whole body
    /// again in a fresh transaction (jittered exponential backoff), up to <see cref="KvTransactionOptions.MaxAttempts"/>
    /// times (default 10). The body must be safe to run more than once: keep its side effects inside the transaction.
    /// </summary>
    /// <param name="body">The transaction's work. It may commit or roll back the transaction itself; otherwise it is committed when the body returns.</param>
    /// <param name="cancellationToken">Cancels the transaction's calls and the backoff between attempts.</param>
    /// <exception cref="KvTransactionConflictException">Every attempt conflicted (<see cref="KvTransactionConflictException.Attempts"/>, the last reason and key).</exception>
    /// <exception cref="KvTransactionOutcomeUnknownException">A commit's outcome is unknown; it is never run again automatically.</exception>
    /// <remarks>An exception thrown by the body propagates as is, and nothing of that attempt is written.</remarks>
    public Task RunTransactionAsync(Func<KvTransaction, Task> body, CancellationToken cancellationToken = default) =>
        RunTransactionAsync(body, options: null, cancellationToken);

    /// <summary>
    /// As <see cref="RunTransactionAsync(Func{KvTransaction, Task}, CancellationToken)"/>, with settings (commit protocol,
    /// attempts, backoff, attempt timeout).
    /// </summary>
    /// <param name="body">The transaction's work; committed when it returns, run again on a conflict.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the transaction's calls and the backoff between attempts.</param>
    public Task RunTransactionAsync(Func<KvTransaction, Task> body, KvTransactionOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return RunTransactionAsync<bool>(async tx =>
        {
            await body(tx).ConfigureAwait(false);
            return true;
        }, options, cancellationToken);
    }

    /// <summary>
    /// As <see cref="RunTransactionAsync(Func{KvTransaction, Task}, CancellationToken)"/>, returning the body's result
    /// (of the attempt that committed).
    /// </summary>
    /// <typeparam name="T">The body's result.</typeparam>
    /// <param name="body">The transaction's work; committed when it returns, run again on a conflict.</param>
    /// <param name="cancellationToken">Cancels the transaction's calls and the backoff between attempts.</param>
    public Task<T> RunTransactionAsync<T>(Func<KvTransaction, Task<T>> body, CancellationToken cancellationToken = default) =>
        RunTransactionAsync(body, options: null, cancellationToken);

    /// <summary>
    /// As <see cref="RunTransactionAsync{T}(Func{KvTransaction, Task{T}}, CancellationToken)"/>, with settings.
    /// </summary>
    /// <typeparam name="T">The body's result.</typeparam>
    /// <param name="body">The transaction's work; committed when it returns, run again on a conflict.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the transaction's calls and the backoff between attempts.</param>
    public async Task<T> RunTransactionAsync<T>(Func<KvTransaction, Task<T>> body, KvTransactionOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        options ??= new KvTransactionOptions();
        options.Validate();
        long priority = 0;
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Every earlier attempt conflicted: past the option's count, this one locks what it reads (no starvation).
            var tx = await BeginAttemptAsync(options, options.LocksReads(conflicts: attempt - 1), cancellationToken).ConfigureAwait(false);
            // Wound-wait: every attempt keeps the first one's age, so the body only gains against younger ones.
            if (priority == 0) priority = tx.ReadTimestamp.WallNanos;
            tx.Priority = priority;
            await using (tx.ConfigureAwait(false))
            {
                try
                {
                    var result = await body(tx).ConfigureAwait(false);
                    if (tx.IsActive) await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return result;
                }
                catch (KvTransactionConflictException e) when (ReferenceEquals(e, tx.Conflict))
                {
                    if (attempt >= options.MaxAttempts) throw e.AfterAttempts(attempt);
                    var delay = ConflictBackoff(options, attempt);
                    Log.TransactionConflict(_logger, attempt, options.MaxAttempts, delay.TotalMilliseconds, e.Reason);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    // ---------------------------------------------------------------- calls of a transaction

    /// <summary>A pessimistic transaction's heartbeat, at any node (it proposes to the home key's range).</summary>
    internal Task<Wire.TxnHeartbeatResponse> TxnHeartbeatAsync(Wire.TxnHeartbeatRequest request, CancellationToken cancellationToken) =>
        InvokeCoreAsync("TxnHeartbeat", idempotent: true, request.HomeKey.Memory,
            (endpoint, call) => _router.TxnStub(endpoint).HeartbeatAsync(request, call).ResponseAsync,
            (e, endpoint) => Classify(e, "TxnHeartbeat", endpoint, idempotent: true, request.HomeKey.Memory), cancellationToken);

    /// <summary>Gives up a pessimistic transaction and drops its locks (idempotent).</summary>
    internal Task<Wire.TxnRollbackResponse> TxnRollbackAsync(Wire.TxnRollbackRequest request, CancellationToken cancellationToken) =>
        InvokeCoreAsync("TxnRollback", idempotent: true, request.HomeKey.Memory,
            (endpoint, call) => _router.TxnStub(endpoint).RollbackAsync(request, call).ResponseAsync,
            (e, endpoint) => Classify(e, "TxnRollback", endpoint, idempotent: true, request.HomeKey.Memory), cancellationToken);

    /// <summary>A transactional read, routed like Get to the leader of the key's range.</summary>
    internal Task<Wire.TxnReadResponse> TxnReadAsync(Wire.TxnReadRequest request, CancellationToken cancellationToken) =>
        InvokeCoreAsync("TxnRead", idempotent: true, request.Key.Memory,
            (endpoint, call) => _router.TxnStub(endpoint).ReadAsync(request, call).ResponseAsync,
            (e, endpoint) => Classify(e, "TxnRead", endpoint, idempotent: true, request.Key.Memory), cancellationToken);

    /// <summary>A page of a transactional scan, routed like Scan (forward: by the start key; reverse: by the server).</summary>
    internal Task<Wire.TxnScanResponse> TxnScanAsync(Wire.TxnScanRequest request, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte>? routingKey = request.Reverse ? null : request.StartKey.Memory;
        return InvokeCoreAsync("TxnScan", idempotent: true, routingKey,
            (endpoint, call) => _router.TxnStub(endpoint).ScanAsync(request, call).ResponseAsync,
            (e, endpoint) => Classify(e, "TxnScan", endpoint, idempotent: true, routingKey), cancellationToken);
    }

    /// <summary>
    /// A commit, at any node (it coordinates). Retried only when the attempt failed before anything was sent (the
    /// connection was refused); any other failure after sending is an unknown outcome, never retried.
    /// </summary>
    internal async Task<Wire.CommitTransactionResponse> TxnCommitAsync(Wire.CommitTransactionRequest request, CancellationToken cancellationToken)
    {
        bool maybeSent = false;
        try
        {
            // Sent to the leader of the home key's range (the first write; the server makes it the home key) when
            // known: the manifest and that range's stage are then proposed where they are decided, one hop fewer.
            ReadOnlyMemory<byte>? home = request.Writes.Count > 0 ? request.Writes[0].Key.Memory : null;
            return await InvokeCoreAsync("Commit", idempotent: false, routingKey: home, async (endpoint, call) =>
            {
                maybeSent = true;
                try
                {
                    return await _router.TxnStub(endpoint).CommitAsync(request, call).ResponseAsync.ConfigureAwait(false);
                }
                catch (RpcException e) when (IsConnectFailure(e))
                {
                    maybeSent = false;
                    throw;
                }
            }, ClassifyCommit, cancellationToken).ConfigureAwait(false);
        }
        catch (KvException e) when (e.Code == KvErrorCode.DeadlineExceeded && e is not KvTransactionOutcomeUnknownException)
        {
            // The overall deadline cut the commit short: in flight, or backing off after refused connections.
            if (maybeSent)
                throw new KvTransactionOutcomeUnknownException(
                    $"The transaction's outcome is unknown: the commit was in flight when the overall deadline of {_options.OverallDeadline.TotalSeconds:0.###} s passed; it may have committed. Read its keys to find out.", e);
            throw new KvUnavailableException(
                $"Commit: no node accepted a connection within the overall deadline of {_options.OverallDeadline.TotalSeconds:0.###} s; the transaction was not sent (nothing was committed). Check that the endpoints are right and nodes are up.", e);
        }
    }

    /// <summary>The exception for a failed commit attempt: retryable only if nothing was sent.</summary>
    private Exception ClassifyCommit(RpcException e, string endpoint)
    {
        const string operation = "Commit";
        switch (e.StatusCode)
        {
            case StatusCode.Aborted:
                return Conflict(e, e.GetRpcStatus());
            case StatusCode.Unavailable when IsConnectFailure(e):
                _router.NotLeader(endpoint);
                _router.Advance();
                return new RetryableAttemptException(operation, endpoint, immediate: _router.AnyAlive(),
                    new KvUnavailableException($"Commit: no node accepted a connection (last: {endpoint}: {e.Status.Detail}); the transaction was not sent (nothing was committed). Check that the endpoints are right and nodes are up.", e));
            case StatusCode.InvalidArgument:
            case StatusCode.Unimplemented:
            case StatusCode.ResourceExhausted:
            case StatusCode.PermissionDenied:
            case StatusCode.Unauthenticated:
                // Refused before anything was staged.
                return Classify(e, operation, endpoint, idempotent: true);
            default:
                if (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded) _router.NotLeader(endpoint);
                string why = e.StatusCode == StatusCode.Unknown ? $"the coordinator could not learn it ({e.Status.Detail})" : $"{e.StatusCode} at {endpoint}: {e.Status.Detail}";
                return new KvTransactionOutcomeUnknownException(
                    $"The transaction's outcome is unknown: {why}. It may have committed (all or nothing); read its keys to find out before running it again.", e);
        }
    }

    /// <summary>The conflict exception for an ABORTED status (its TxnConflict detail, when it has one).</summary>
    private static KvTransactionConflictException Conflict(RpcException e, Google.Rpc.Status? status)
    {
        var detail = status?.GetDetail<Wire.TxnConflict>();
        string reason = detail is { Reason.Length: > 0 } ? detail.Reason : e.Status.Detail;
        return new KvTransactionConflictException(reason, detail?.Key.Memory ?? default, detail?.ConflictingTxnId.Memory ?? default, 1, e);
    }

    /// <summary>
    /// Whether the call failed while connecting (refused, unreachable, unknown host), so that nothing was sent. A
    /// connection reset or a timeout is not: the request may have been sent.
    /// </summary>
    internal static bool IsConnectFailure(RpcException e)
    {
        if (e.StatusCode != StatusCode.Unavailable) return false;
        var pending = new Stack<Exception>();
        if (e.Status.DebugException is { } debug) pending.Push(debug);
        if (e.InnerException is { } inner) pending.Push(inner);
        for (int seen = 0; pending.Count > 0 && seen < 32; seen++)
        {
            var x = pending.Pop();
            switch (x)
            {
                case SocketException s when s.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable
                    or SocketError.NetworkUnreachable or SocketError.HostNotFound or SocketError.AddressNotAvailable or SocketError.HostDown:
                    return true;
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }:
                    return true;
                case AggregateException a:
                    foreach (var i in a.InnerExceptions) pending.Push(i);
                    continue;
            }
            if (x.InnerException is { } next) pending.Push(next);
        }
        return false;
    }

    /// <summary>The backoff before attempt <paramref name="attempt"/> + 1: exponential, capped, with equal jitter.</summary>
    private static TimeSpan ConflictBackoff(KvTransactionOptions options, int attempt)
    {
        double capMs = Math.Min(options.RetryBackoffMax.TotalMilliseconds, options.RetryBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromMilliseconds(capMs / 2 + Random.Shared.NextDouble() * capMs / 2);
    }

    private static partial class Log
    {
        [LoggerMessage(7, LogLevel.Debug, "Kv transaction attempt {Attempt} of {AttemptsMax} conflicted; running it again in {DelayMs} ms: {Reason}")]
        public static partial void TransactionConflict(ILogger logger, int attempt, int attemptsMax, double delayMs, string reason);
    }
}
