using Google.Protobuf;
using Grpc.Core;
using Kv.Client;
using Polly;
using Polly.Retry;
using Stub = Kv.Proto.V1.Kv.KvClient;
using Wire = Kv.Proto.V1;

namespace Kv.ClientBench;

/// <summary>
/// A copy of the SDK's Get path on its happy path (<c>KvClient.GetAsync</c> → <c>InvokeAsync</c> →
/// <c>InvokeCoreAsync</c>, same closures, same retry pipeline, same overall-deadline token and per-attempt
/// <see cref="CallOptions"/>), with routing replaced by a fixed stub, and switches that take pieces out. Measured
/// for allocations only: the full copy shows whether routing allocates (it should match the SDK), and each piece
/// taken out shows what that piece costs. Diagnostic; not a proposal for the SDK's code.
/// </summary>
internal sealed class SdkPathCopy
{
    private readonly Stub _stub;
    private readonly ResiliencePipeline _pipeline;
    private readonly KvClientOptions _options = new();
    private readonly bool _polly;
    private readonly bool _overallToken;

    /// <param name="stub">The stub every attempt goes to.</param>
    /// <param name="polly">Run the attempt through the retry pipeline (else call it once, directly).</param>
    /// <param name="overallToken">Make a linked token source per call with the overall deadline (else the caller's token).</param>
    public SdkPathCopy(Stub stub, bool polly, bool overallToken)
    {
        _stub = stub;
        _polly = polly;
        _overallToken = overallToken;
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, _options.RetryAttemptsMax),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBackoff,
                MaxDelay = _options.RetryBackoffMax,
                ShouldHandle = args => ValueTask.FromResult(_options.RetryAttemptsMax > 0 && args.Outcome.Exception is RetryableException),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(null),
                OnRetry = args => default,
            })
            .Build();
    }

    public async Task<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var request = new Wire.GetRequest { Key = ByteString.CopyFrom(key.Span) };
        var response = await InvokeAsync("Get", idempotent: true, request.Key.Memory,
            (stub, call) => stub.GetAsync(request, call).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return response.Found
            ? new KvEntry(request.Key.Memory, response.Value.Memory, response.Version is { } t ? new KvVersion(t.WallNanos, t.Logical) : default)
            : null;
    }

    private Task<T> InvokeAsync<T>(
        string operation, bool idempotent, ReadOnlyMemory<byte>? routingKey, Func<Stub, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        InvokeCoreAsync(routingKey, (endpoint, callOptions) => call(_stub, callOptions),
            (e, endpoint) => Classify(e, operation, endpoint, idempotent, routingKey), cancellationToken);

    /// <summary>Stands in for the SDK's <c>Classify</c> (never reached on the happy path).</summary>
    private static RetryableException Classify(RpcException e, string operation, string endpoint, bool idempotent, ReadOnlyMemory<byte>? routingKey) =>
        new($"{operation} at {endpoint} ({(idempotent ? "read" : "write")}, key of {routingKey?.Length ?? 0} bytes)", e);

    private async Task<T> InvokeCoreAsync<T>(
        ReadOnlyMemory<byte>? routingKey, Func<string, CallOptions, Task<T>> call, Func<RpcException, string, Exception> classify,
        CancellationToken cancellationToken)
    {
        _ = routingKey; // the SDK routes by it here; the copy always goes to the one stub
        using var overall = _overallToken ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : null;
        overall?.CancelAfter(_options.OverallDeadline);
        var outerToken = overall?.Token ?? cancellationToken;
        const string Endpoint = "leader";
        if (_polly)
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                var callOptions = new CallOptions(deadline: DateTime.UtcNow + _options.PerCallTimeout, cancellationToken: token);
                try
                {
                    return await call(Endpoint, callOptions).ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    throw classify(e, Endpoint);
                }
            }, outerToken).ConfigureAwait(false);
        }
        var options = new CallOptions(deadline: DateTime.UtcNow + _options.PerCallTimeout, cancellationToken: outerToken);
        try
        {
            return await call(Endpoint, options).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw classify(e, Endpoint);
        }
    }

    private sealed class RetryableException(string message, RpcException inner) : Exception(message, inner);
}
