using Kv.Storage.Mvcc;

namespace Kv.Server.Api;

/// <summary>
/// A locator with one range (<see cref="RangeId"/>) covering every key, for hosting the client API over a single
/// replica group without a meta range (API tests). Nodes route with <see cref="DirectoryRangeLocator"/>.
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

    /// <summary>The one route.</summary>
    public RangeRoute Route => _route;

    /// <inheritdoc />
    public RangeRoute Locate(ReadOnlySpan<byte> key) => _route;

    /// <inheritdoc />
    public RangeRoute LocateBefore(ReadOnlySpan<byte> end) => _route;
}
