using Grpc.Core;
using Kv.Server.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// Routes by this node's <see cref="RangeDirectory"/>, with replica endpoints from the <see cref="NodeAddressBook"/>.
/// Before the node knows any range (not initialised yet) every lookup fails with UNAVAILABLE.
/// </summary>
public sealed class DirectoryRangeLocator(RangeDirectory directory, NodeAddressBook addresses) : IRangeLocator
{
    /// <inheritdoc />
    public RangeRoute Locate(ReadOnlySpan<byte> key) =>
        Route(directory.Find(key) ?? throw NoRange(KeyDisplay.Printable(key)));

    /// <inheritdoc />
    public RangeRoute LocateBefore(ReadOnlySpan<byte> end) =>
        Route(directory.FindBefore(end) ?? throw NoRange("the keys below " + KeyDisplay.Printable(end)));

    /// <summary>The route of a descriptor.</summary>
    public RangeRoute Route(Wire.RangeDescriptor d) =>
        new(d.RangeId, Descriptors.SpanOf(d), d.Generation,
            d.Replicas.Select(r => new RangeReplica(r.NodeId, addresses.Display(r.NodeId), r.Learner)).ToArray());

    private static RpcException NoRange(string what) =>
        KvErrors.Plain(StatusCode.Unavailable,
            $"This node knows no range holding {what}: it is not initialised yet (or is still loading the range directory). Retry at another node.");
}
