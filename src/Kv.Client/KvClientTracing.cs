using System.Diagnostics;

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
}
