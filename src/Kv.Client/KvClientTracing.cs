using System.Diagnostics;
using Grpc.Core;

namespace Kv.Client;

/// <summary>
/// The SDK's spans, on the <see cref="ActivitySource"/> named <see cref="SourceName"/> (in-box; no OpenTelemetry
/// package needed here): one per operation, and one per attempt at an endpoint. gRPC carries the current span's
/// W3C <c>traceparent</c> to the node, so an application's tracer that listens to this source sees one trace from
/// the call through the nodes it reached. Without a listener each costs one check.
/// </summary>
public static class KvClientTracing
{
    /// <summary>The source's name: add it to a tracer (<c>AddSource("Kv.Client")</c>) to record the SDK's spans.</summary>
    public const string SourceName = "Kv.Client";

    private static readonly ActivitySource Source = new(SourceName);

    internal static Activity? StartOperation(string operation) =>
        Source.HasListeners() ? Source.StartActivity("kv.client." + operation, ActivityKind.Internal) : null;

    internal static Activity? StartAttempt(string operation, string endpoint)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity("kv.client." + operation + " attempt", ActivityKind.Client);
        activity?.SetTag("server.address", endpoint);
        return activity;
    }

    /// <summary>
    /// Marks <paramref name="span"/> failed (status Error) by <paramref name="error"/>: a gRPC status (tags
    /// <c>rpc.grpc.status_code</c> and <c>error.type</c> = the code's name), a <see cref="KvException"/> (<c>error.type</c> =
    /// its <see cref="KvErrorCode"/>) or another exception (<c>error.type</c> = its type). Returns the error, for
    /// <c>throw Fail(span, …)</c>.
    /// </summary>
    internal static T Fail<T>(Activity? span, T error) where T : Exception
    {
        if (span is null) return error;
        switch (error)
        {
            case RpcException rpc:
                span.SetTag("rpc.grpc.status_code", (int)rpc.StatusCode);
                span.SetTag("error.type", rpc.StatusCode.ToString());
                span.SetStatus(ActivityStatusCode.Error, $"{rpc.StatusCode}: {rpc.Status.Detail}");
                break;
            case KvException kv:
                span.SetTag("error.type", kv.Code.ToString());
                span.SetStatus(ActivityStatusCode.Error, kv.Message);
                break;
            default:
                span.SetTag("error.type", error.GetType().FullName);
                span.SetStatus(ActivityStatusCode.Error, error.Message);
                break;
        }
        return error;
    }

    /// <summary>For an exception filter that lets every exception pass: marks <paramref name="span"/> failed and returns false.</summary>
    internal static bool FailAndRethrow(Activity? span, Exception error)
    {
        Fail(span, error);
        return false;
    }
}
