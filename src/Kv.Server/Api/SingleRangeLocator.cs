using Kv.Server.Configuration;
using Kv.Storage.Mvcc;

namespace Kv.Server.Api;

/// <summary>
/// The locator of a node that hosts one range (<see cref="RangeId"/>) covering every key — until the meta range
/// exists and ranges split. Every key routes to it.
/// </summary>
public sealed class SingleRangeLocator : IRangeLocator
{
    /// <summary>The id of the one range.</summary>
    public const ulong RangeId = Ranges.RangeIds.FirstUser;

    private readonly RangeRoute _route;

    /// <summary>Creates the locator for the one range, replicated on <paramref name="replicas"/>.</summary>
    public SingleRangeLocator(IReadOnlyList<RangeReplica> replicas)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        _route = new RangeRoute(RangeId, KeySpan.All, Generation: 1, replicas.ToArray());
    }

    /// <summary>
    /// The locator for a node configured with <paramref name="options"/>: the replicas are the configured
    /// <see cref="NodeOptions.Peers"/>, or this node alone (at <see cref="NodeOptions.Listen"/>) when there are none.
    /// </summary>
    public static SingleRangeLocator FromOptions(NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var replicas = options.Peers.Count == 0
            ? [new RangeReplica((ulong)options.NodeId, options.Listen.OriginalString)]
            : options.Peers.Select(p => new RangeReplica((ulong)p.NodeId, p.Url.OriginalString)).ToArray();
        return new SingleRangeLocator(replicas);
    }

    /// <summary>The one route.</summary>
    public RangeRoute Route => _route;

    /// <inheritdoc />
    public RangeRoute Locate(ReadOnlySpan<byte> key) => _route;

    /// <inheritdoc />
    public RangeRoute LocateBefore(ReadOnlySpan<byte> end) => _route;
}
