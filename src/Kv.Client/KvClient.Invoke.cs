using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

// The retry machinery under every call: routing, attempts, timeouts, retries.
public sealed partial class KvClient
{
    /// <summary>
    /// One kind of request to the machinery: how it is routed, what an attempt sends, how a failure is classified, and
    /// how the answer becomes the caller's result. The machinery is generic over it and structs implement it, so the
    /// happy path of a Get builds no closure and no delegate.
    /// </summary>
    private interface IKvRequest<TResponse, TResult>
    {
        string Operation { get; }

        bool Idempotent { get; }

        /// <summary>The key the next attempt is routed by (null: any node will route it); asked before each attempt.</summary>
        ReadOnlyMemory<byte>? RoutingKey { get; }

        /// <summary>Whether an answer shows that the node leads the routing key's range (only the leader serves it).</summary>
        bool AnswerShowsLeader { get; }

        /// <summary>
        /// Whether any replica of the routing key's range may serve it (a serializable read): the first attempt then goes
        /// to the range's replicas in turn rather than to its leader; retries are routed as usual.
        /// </summary>
        bool AnyReplica { get; }

        /// <summary>Whether an attempt's timeout may be a shared deadline token (<see cref="AttemptTimeout"/>); false when the attempt sets its own deadline.</summary>
        bool MayShareTimeout { get; }

        Task<TResponse> SendAsync(NodeEndpoint endpoint, CallOptions options);

        /// <summary>A <see cref="RetryableAttemptException"/> to retry, else the final error.</summary>
        Exception Classify(RpcException e, string endpoint);

        TResult Result(TResponse response);
    }

    /// <summary>A Get: routed by its key, served by the key's range leader (linearizable) or by any of its replicas (serializable).</summary>
    private readonly struct GetCall(KvClient client, Wire.GetRequest request) : IKvRequest<Wire.GetResponse, KvEntry?>
    {
        public string Operation => "Get";

        public bool Idempotent => true;

        public ReadOnlyMemory<byte>? RoutingKey => request.Key.Memory;

        public bool AnswerShowsLeader => request.Consistency != Wire.ReadConsistency.Serializable;

        public bool AnyReplica => request.Consistency == Wire.ReadConsistency.Serializable;

        public bool MayShareTimeout => true;

        public Task<Wire.GetResponse> SendAsync(NodeEndpoint endpoint, CallOptions options) =>
            endpoint.Bundler is { } bundler ? bundler.GetAsync(request, options) : endpoint.Stub.GetAsync(request, options).ResponseAsync;

        public Exception Classify(RpcException e, string endpoint) => client.Classify(e, Operation, endpoint, idempotent: true, request.Key.Memory);

        public KvEntry? Result(Wire.GetResponse response) =>
            response.Found ? new KvEntry(request.Key.Memory, response.Value.Memory, ToVersion(response.Version)) : null;
    }

    /// <summary>Any other request, as delegates: one attempt's call and its classification.</summary>
    private readonly struct DelegateCall<T>(
        string operation, bool idempotent, ReadOnlyMemory<byte>? routingKey, Func<ReadOnlyMemory<byte>?>? routingKeyOf,
        Func<NodeEndpoint, CallOptions, Task<T>> call, Func<RpcException, string, Exception> classify, bool answerShowsLeader, bool mayShareTimeout)
        : IKvRequest<T, T>
    {
        public string Operation => operation;

        public bool Idempotent => idempotent;

        public ReadOnlyMemory<byte>? RoutingKey => routingKeyOf is null ? routingKey : routingKeyOf();

        public bool AnswerShowsLeader => answerShowsLeader;

        public bool AnyReplica => false;

        public bool MayShareTimeout => mayShareTimeout;

        public Task<T> SendAsync(NodeEndpoint endpoint, CallOptions options) => call(endpoint, options);

        public Exception Classify(RpcException e, string endpoint) => classify(e, endpoint);

        public T Result(T response) => response;
    }

    /// <summary>
    /// Runs <paramref name="call"/> (a request of the Kv service) with retries under the overall deadline, each attempt
    /// with the per-call timeout at the endpoint the router picks. Internal so that tests can drive raw calls with it.
    /// </summary>
    internal Task<T> InvokeAsync<T>(string operation, bool idempotent, Func<Wire.Kv.KvClient, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        InvokeAsync(operation, idempotent, routingKey: null, call, cancellationToken);

    /// <summary>As above, routed by <paramref name="routingKey"/>: to the cached leader of the range holding it when known.</summary>
    internal Task<T> InvokeAsync<T>(
        string operation, bool idempotent, ReadOnlyMemory<byte>? routingKey, Func<Wire.Kv.KvClient, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        RunAsync<DelegateCall<T>, T, T>(new DelegateCall<T>(operation, idempotent, routingKey, null, (endpoint, options) => call(endpoint.Stub, options),
            (e, endpoint) => Classify(e, operation, endpoint, idempotent, routingKey), answerShowsLeader: routingKey is not null, mayShareTimeout: true),
            cancellationToken).AsTask();

    /// <summary>As above, each attempt given its endpoint rather than only its stub (to reach the endpoint's <see cref="RequestBundler"/>).</summary>
    private Task<T> InvokeAtAsync<T>(
        string operation, bool idempotent, ReadOnlyMemory<byte> routingKey, Func<NodeEndpoint, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        RunAsync<DelegateCall<T>, T, T>(new DelegateCall<T>(operation, idempotent, routingKey, null, call,
            (e, endpoint) => Classify(e, operation, endpoint, idempotent, routingKey), answerShowsLeader: true, mayShareTimeout: true),
            cancellationToken).AsTask();

    /// <summary>
    /// Any service's call (transactions): <paramref name="call"/> gets the endpoint's address and sets up its own
    /// stub; <paramref name="classify"/> turns a failed attempt into a <see cref="RetryableAttemptException"/> (retried)
    /// or the final error. Each attempt has a gRPC deadline (the call may replace it).
    /// </summary>
    private Task<T> InvokeCoreAsync<T>(
        string operation, bool idempotent, ReadOnlyMemory<byte>? routingKey, Func<string, CallOptions, Task<T>> call,
        Func<RpcException, string, Exception> classify, CancellationToken cancellationToken) =>
        RunAsync<DelegateCall<T>, T, T>(new DelegateCall<T>(operation, idempotent, routingKey, null, (endpoint, options) => call(endpoint.Address, options),
            classify, answerShowsLeader: false, mayShareTimeout: false), cancellationToken).AsTask();

    /// <summary>As above, each attempt routed by the key <paramref name="routingKeyOf"/> gives at that moment (a batch moves on between attempts).</summary>
    private Task<T> InvokeCoreAsync<T>(
        string operation, bool idempotent, Func<ReadOnlyMemory<byte>?> routingKeyOf, Func<string, CallOptions, Task<T>> call,
        Func<RpcException, string, Exception> classify, CancellationToken cancellationToken) =>
        RunAsync<DelegateCall<T>, T, T>(new DelegateCall<T>(operation, idempotent, null, routingKeyOf, (endpoint, options) => call(endpoint.Address, options),
            classify, answerShowsLeader: false, mayShareTimeout: false), cancellationToken).AsTask();

    /// <summary>
    /// The first attempt, and the retries if it fails with a retryable error (<see cref="RetryAsync"/>).
    /// </summary>
    /// <remarks>
    /// The first attempt runs outside the retry pipeline and without an overall-deadline token: its own timeout (at
    /// most <see cref="KvClientOptions.OverallDeadline"/>) bounds it, and on the happy path the pipeline and the token
    /// source would cost more than the rest of the client (bench/results/client-overhead.md). Only a retryable failure
    /// builds them. Pooled, like <see cref="AttemptAsync"/>: the caller's <see cref="Task"/> is the only object a call
    /// needs beyond gRPC's own and the result (<see cref="ValueTask{TResult}.AsTask"/> of a pending pooled call costs
    /// less than an async method's own box).
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> RunAsync<TRequest, TResponse, TResult>(TRequest request, CancellationToken cancellationToken)
        where TRequest : IKvRequest<TResponse, TResult>
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var span = KvClientTracing.StartOperation(request.Operation);
        long startedAt = Stopwatch.GetTimestamp();
        try
        {
            RetryableAttemptException failure;
            try
            {
                return request.Result(await AttemptAsync<TRequest, TResponse, TResult>(request, _firstAttempt, cancellationToken, first: true).ConfigureAwait(false));
            }
            catch (RetryableAttemptException e) when (_options.RetryAttemptsMax > 0)
            {
                failure = e;
            }
            catch (RetryableAttemptException e)
            {
                throw e.Error; // retries are off: the attempt's own error
            }
            return request.Result(await RetryAsync<TRequest, TResponse, TResult>(request, failure, startedAt, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (KvClientTracing.FailAndRethrow(span, e))
        {
            throw; // not reached: the filter marks the operation's span failed and lets the error pass
        }
    }

    /// <summary>
    /// The retries after a failed first attempt, through the retry pipeline (jittered exponential backoff, or none for
    /// a redirect worth following at once), under the overall deadline counted from <paramref name="startedAt"/>. The
    /// pipeline replays the first failure as its own first attempt, so that its attempt count, backoff and logging
    /// are the same as if it had made that attempt itself.
    /// </summary>
    private async Task<TResponse> RetryAsync<TRequest, TResponse, TResult>(
        TRequest request, RetryableAttemptException firstFailure, long startedAt, CancellationToken cancellationToken)
        where TRequest : IKvRequest<TResponse, TResult>
    {
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var remaining = _options.OverallDeadline - Stopwatch.GetElapsedTime(startedAt);
        overall.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        var redirects = new Redirects();
        RetryableAttemptException? replay = redirects.Follow(firstFailure);
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                if (Interlocked.Exchange(ref replay, null) is { } first) throw first;
                try
                {
                    return await AttemptAsync<TRequest, TResponse, TResult>(request, _laterAttempt, token).ConfigureAwait(false);
                }
                catch (RetryableAttemptException e)
                {
                    throw redirects.Follow(e);
                }
            }, overall.Token).ConfigureAwait(false);
        }
        catch (RetryableAttemptException e)
        {
            throw e.Error; // retries exhausted: the last attempt's error
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && overall.IsCancellationRequested)
        {
            throw new KvException(KvErrorCode.DeadlineExceeded,
                $"{request.Operation} did not complete within the overall deadline of {_options.OverallDeadline.TotalSeconds:0.###} s"
                + (request.Idempotent ? "." : "; the write may still apply: read the key to learn its outcome.")
                + " Check that the cluster has a leader, or raise KvClientOptions.OverallDeadline.", e)
            { WriteMayHaveApplied = !request.Idempotent };
        }
    }

    /// <summary>
    /// One attempt: route, call with the <paramref name="timeout"/>, tell the endpoint's breaker the outcome, classify a
    /// failure. An answer from a node the range map had no leader for makes it the range's cached leader. The
    /// <paramref name="first"/> attempt of a request any replica may serve goes to the next replica in turn.
    /// </summary>
    /// <remarks>Pooled: on the happy path the attempt's state machine is reused, not allocated per call.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResponse> AttemptAsync<TRequest, TResponse, TResult>(
        TRequest request, AttemptTimeout timeout, CancellationToken cancellationToken, bool first = false)
        where TRequest : IKvRequest<TResponse, TResult>
    {
        // A replica that cannot serve a serializable read answers as for a linearizable one (NotLeader naming the
        // leader, RangeMoved): the retries follow that answer like any other request's.
        var route = first && request.AnyReplica ? SpreadRouteFor(request.RoutingKey) : RouteFor(request.RoutingKey);
        var endpoint = route.Endpoint;
        using var attempt = KvClientTracing.StartAttempt(request.Operation, endpoint.Address);
        TResponse response;
        try
        {
            response = await request.SendAsync(endpoint, timeout.Options(request.MayShareTimeout, cancellationToken)).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            KvClientTracing.Fail(attempt, e);
            endpoint.Report(e);
            throw request.Classify(e, endpoint.Address);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The channels throw OperationCanceledException (ThrowOperationCanceledOnCancellation) also when the
            // attempt's deadline passes. Nobody cancelled: it is the per-call timeout, and is handled as one.
            throw request.Classify(KvClientTracing.Fail(attempt, new RpcException(new Status(StatusCode.DeadlineExceeded, "the per-call deadline passed", e))), endpoint.Address);
        }
        catch (Exception e) when (KvClientTracing.FailAndRethrow(attempt, e))
        {
            throw; // not reached: the filter marks the attempt's span failed and lets the error pass
        }
        endpoint.Report(null);
        if (request.AnswerShowsLeader && route is { CachedLeader: false, Range: { } range }) _router.LeaderIs(range.RangeId, endpoint);
        return response;
    }

    /// <summary>Picks the endpoint for a key, and refreshes the range map in the background when it does not know the key.</summary>
    private Route RouteFor(ReadOnlyMemory<byte>? routingKey)
    {
        if (routingKey is not { } key) return new Route(_router.Pick(), null, CachedLeader: false);
        var route = _router.Pick(key.Span, hasKey: true);
        if (route.Range is null) RefreshRangesInBackground();
        return route;
    }

    /// <summary>The next replica in turn for a key any replica may serve; refreshes the range map as <see cref="RouteFor"/> does.</summary>
    private Route SpreadRouteFor(ReadOnlyMemory<byte>? routingKey)
    {
        var route = _router.PickReplica(routingKey is { } key ? key.Span : default);
        if (route.Range is null) RefreshRangesInBackground();
        return route;
    }

    /// <summary>
    /// The nodes that answered NotLeader within one call. A NotLeader naming another node is followed at once, unless
    /// that node already answered NotLeader in this call: then the hints go round in a loop (the nodes name a leader
    /// that has stepped down while they elect), and the retry backs off like a NotLeader that names none.
    /// </summary>
    private sealed class Redirects
    {
        private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

        /// <summary>Records <paramref name="failure"/>; returns it, or the same failure with a backoff when its hint is stale.</summary>
        public RetryableAttemptException Follow(RetryableAttemptException failure)
        {
            if (!failure.NotLeader) return failure;
            _refused.Add(failure.Endpoint);
            return failure.Immediate && failure.NamedLeader is { } named && _refused.Contains(named) ? failure.WithBackoff() : failure;
        }
    }
}
