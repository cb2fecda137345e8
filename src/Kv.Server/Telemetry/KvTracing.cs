using System.Diagnostics;
using Grpc.Core;

namespace Kv.Server.Telemetry;

/// <summary>
/// The node's spans (docs/observability.md): one per client API call, per proposal from hand-off to chosen and
/// applied, per forwarded proposal, and per traced Accept a follower persists and answers. An
/// <see cref="ActivitySource"/> is the in-box way to declare them; it costs a check per call while nobody listens
/// (no tracer configured), and holds no state of ours.
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

    /// <summary>
    /// One operation of a Bundle call, as its own call <paramref name="method"/> would be traced, but under the trace of
    /// the request it came from (<paramref name="traceParent"/>, W3C) rather than the bundle's; null when not traced.
    /// </summary>
    public static Activity? StartBundledCall(string service, string method, string traceParent, long nodeId)
    {
        if (!Source.HasListeners() || !ActivityContext.TryParse(traceParent, null, out var parent)) return null;
        var activity = Source.StartActivity($"{service}/{method}", ActivityKind.Internal, parent);
        activity?.SetTag("kv.node_id", nodeId);
        activity?.SetTag("kv.bundled", true);
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

    /// <summary>
    /// A follower's part in a traced proposal: accepting <paramref name="slot"/> of range <paramref name="rangeId"/> (the
    /// durable write and the Accepted reply), as a child of the leader's <c>paxos.propose</c> span named by
    /// <paramref name="traceParent"/> (W3C). Null while nobody listens, when the tracer does not sample it, or when the
    /// traceparent does not parse. The span does not become <see cref="Activity.Current"/>: the replica loop that
    /// starts it serves every range, and must not parent anything else to it. End it with <see cref="StopDetached"/>.
    /// </summary>
    public static Activity? StartAccept(string traceParent, ulong rangeId, long slot, ulong nodeId, ulong leaderNodeId)
    {
        if (!Source.HasListeners() || !ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)) return null;
        var current = Activity.Current;
        var activity = Source.StartActivity("paxos.accept", ActivityKind.Internal, parent);
        Activity.Current = current;
        if (activity is null) return null;
        activity.SetTag("kv.range_id", rangeId);
        activity.SetTag("kv.slot", slot);
        activity.SetTag("kv.node_id", nodeId);
        activity.SetTag("kv.leader_node_id", leaderNodeId);
        return activity;
    }

    /// <summary>Ends a span started by <see cref="StartAccept"/> without touching <see cref="Activity.Current"/>.</summary>
    public static void StopDetached(Activity activity)
    {
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>
    /// The W3C traceparent to carry to the followers for a proposal's span, or null when there is nothing to carry:
    /// no span (nobody listens), or a span the tracer does not record (not sampled).
    /// </summary>
    public static string? TraceParentOf(Activity? span) =>
        span is { Recorded: true, IdFormat: ActivityIdFormat.W3C } ? span.Id : null;

    /// <summary>Adds a replica's acknowledgement of a traced slot to the leader's proposal span.</summary>
    public static void AddAccepted(Activity proposal, long slot, ulong nodeId) =>
        proposal.AddEvent(new ActivityEvent("paxos.accepted", tags: new ActivityTagsCollection { ["kv.slot"] = slot, ["kv.node_id"] = nodeId }));

    /// <summary>Marks the moment a traced slot is known chosen on the leader.</summary>
    public static void AddChosen(Activity proposal, long slot) =>
        proposal.AddEvent(new ActivityEvent("paxos.chosen", tags: new ActivityTagsCollection { ["kv.slot"] = slot }));

    /// <summary>Marks the current span with the range a request was routed to.</summary>
    public static void TagRange(ulong rangeId) => Activity.Current?.SetTag("kv.range_id", rangeId);

    /// <summary>
    /// Marks <paramref name="span"/> failed by <paramref name="error"/>: status Error with the gRPC status (tag
    /// <c>rpc.grpc.status_code</c>) or the exception type (tag <c>error.type</c>). Returns the error, for
    /// <c>throw KvTracing.Fail(span, …)</c>. Nothing while there is no span.
    /// </summary>
    public static T Fail<T>(Activity? span, T error) where T : Exception
    {
        if (span is null) return error;
        if (error is RpcException rpc)
        {
            span.SetTag("rpc.grpc.status_code", (int)rpc.StatusCode);
            span.SetTag("error.type", rpc.StatusCode.ToString());
            span.SetStatus(ActivityStatusCode.Error, $"{rpc.StatusCode}: {rpc.Status.Detail}");
        }
        else
        {
            span.SetTag("error.type", error.GetType().FullName);
            span.SetStatus(ActivityStatusCode.Error, error.Message);
        }
        return error;
    }
}
