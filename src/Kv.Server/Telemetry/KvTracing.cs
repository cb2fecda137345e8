using System.Diagnostics;

namespace Kv.Server.Telemetry;

/// <summary>
/// The node's spans (docs/observability.md): one per client API call, per proposal from hand-off to chosen and
/// applied, and per forwarded proposal. An <see cref="ActivitySource"/> is the in-box way to declare them; it costs a
/// check per call while nobody listens (no tracer configured), and holds no state of ours.
/// </summary>
internal static class KvTracing
{
    /// <summary>The source's name, for tracers to subscribe to.</summary>
    public const string SourceName = "Kv.Server";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>A client API call served by <paramref name="nodeId"/> (null while nobody listens).</summary>
    public static Activity? StartApiCall(string service, string method, long nodeId) =>
        Source.HasListeners() ? StartApiCall($"{service}/{method}", nodeId) : null;

    /// <summary>A client API call, named by its gRPC path (<c>/kv.v1.Transactions/Commit</c>).</summary>
    public static Activity? StartApiCall(string grpcMethod, long nodeId)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity(grpcMethod.TrimStart('/'), ActivityKind.Internal);
        activity?.SetTag("kv.node_id", nodeId);
        return activity;
    }

    /// <summary>A command proposed to range <paramref name="rangeId"/>'s replica here, until chosen and applied.</summary>
    public static Activity? StartProposal(ulong rangeId, ulong nodeId)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity("paxos.propose", ActivityKind.Internal);
        activity?.SetTag("kv.range_id", rangeId);
        activity?.SetTag("kv.node_id", nodeId);
        return activity;
    }

    /// <summary>A proposal of this node's own (split, transaction, meta update) routed to the range's leader.</summary>
    public static Activity? StartForward(ulong rangeId, ulong nodeId)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity("kv.forward", ActivityKind.Client);
        activity?.SetTag("kv.range_id", rangeId);
        activity?.SetTag("kv.node_id", nodeId);
        return activity;
    }

    /// <summary>Marks the current span with the range a request was routed to.</summary>
    public static void TagRange(ulong rangeId) => Activity.Current?.SetTag("kv.range_id", rangeId);
}
