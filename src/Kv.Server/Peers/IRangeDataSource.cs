using Kv.Storage.Ranges;

namespace Kv.Server.Peers;

/// <summary>
/// Decides whether this node may serve a span of a range's data to a peer (<see cref="RangeDataService"/>). The
/// node's replica host implements it: a node must serve only spans of ranges it hosts, because the data column
/// family holds whatever keys were written, and a span of a range this node does not host (or no longer hosts, or
/// hosts with other bounds) would be read as empty or stale and installed on the peer as if it were the range.
/// Registered in DI as a singleton.
/// </summary>
public interface IRangeDataSource
{
    /// <summary>
    /// Checks whether range <paramref name="rangeId"/>'s data in <paramref name="span"/> can be served now. Called
    /// on a gRPC request thread, concurrently with the replica loop: it must be thread-safe and cheap.
    /// </summary>
    /// <param name="rangeId">The range the peer asks for.</param>
    /// <param name="span">The user keys asked for; serve only if the range covers all of them.</param>
    /// <param name="reason">When not <see cref="RangeDataAvailability.Available"/>: why, for the peer's error message.</param>
    RangeDataAvailability Check(ulong rangeId, RangeSpan span, out string reason);
}
