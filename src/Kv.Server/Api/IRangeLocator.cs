using Kv.Storage.Mvcc;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// Finds the range that holds a key, as this node knows it. The client API routes every request through it: the
/// route gives the range id to propose or read through, the span that bounds a scan page, and the replicas whose
/// endpoints go into error details (<c>NotLeader</c>, <c>RangeMoved</c>) so that a client can act without an
/// extra round trip. Implementations must be thread-safe and must not block: they run on every request.
/// </summary>
public interface IRangeLocator
{
    /// <summary>The range whose span contains <paramref name="key"/> (keys, and scan starts, may be empty).</summary>
    RangeRoute Locate(ReadOnlySpan<byte> key);

    /// <summary>
    /// The range that holds the keys just below <paramref name="end"/>: the range a reverse scan ending (exclusively)
    /// at <paramref name="end"/> starts in. An empty <paramref name="end"/> is the end of the key space (the last range).
    /// </summary>
    RangeRoute LocateBefore(ReadOnlySpan<byte> end);
}

/// <summary>A replica of a range, as error details describe it.</summary>
/// <param name="NodeId">The node that holds the replica (its replica id in the range's Paxos group).</param>
/// <param name="Endpoint">The URL clients reach that node's gRPC port at; empty when unknown.</param>
/// <param name="Learner">Whether it is a learner (serves no writes, votes in no quorum).</param>
public sealed record RangeReplica(ulong NodeId, string Endpoint, bool Learner = false);

/// <summary>Where a key lives: its range, the range's span and generation, and the range's replicas.</summary>
/// <param name="RangeId">The range (the Paxos group id).</param>
/// <param name="Span">The user keys the range owns.</param>
/// <param name="Generation">Bumped by every split or merge, so that a client can tell a stale descriptor.</param>
/// <param name="Replicas">The range's replicas.</param>
public sealed record RangeRoute(ulong RangeId, KeySpan Span, ulong Generation, IReadOnlyList<RangeReplica> Replicas)
{
    /// <summary>The client endpoint of <paramref name="nodeId"/>, or empty when it is not a known replica.</summary>
    public string EndpointOf(ulong nodeId)
    {
        foreach (var r in Replicas)
            if (r.NodeId == nodeId) return r.Endpoint;
        return "";
    }

    /// <summary>The route as the wire's <c>RangeDescriptor</c> (for <c>RangeMoved</c> details).</summary>
    public Wire.RangeDescriptor ToDescriptor()
    {
        var d = new Wire.RangeDescriptor
        {
            RangeId = RangeId,
            StartKey = Google.Protobuf.ByteString.CopyFrom(Span.Start),
            EndKey = Span.End is null ? Google.Protobuf.ByteString.Empty : Google.Protobuf.ByteString.CopyFrom(Span.End),
            Generation = Generation,
        };
        foreach (var r in Replicas) d.Replicas.Add(new Wire.Replica { NodeId = r.NodeId, Endpoint = r.Endpoint, Learner = r.Learner });
        return d;
    }
}
