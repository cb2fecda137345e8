using Grpc.Core;
using Kv.Storage.Ranges;

namespace Kv.Server.Peers;

/// <summary>
/// Fetching a range's data from a peer failed, and the target store was left unchanged: the peer refused
/// (<see cref="PeerStatus"/> says how), the call broke off (a dropped connection, a stopping node), or the stream
/// failed verification (a corrupt, truncated or foreign chunk; then <see cref="PeerStatus"/> is null and the inner
/// exception is a <see cref="Kv.Storage.StorageCorruptionException"/> or an <see cref="InvalidDataException"/>).
/// In every case the caller may retry, from this peer or another.
/// </summary>
public sealed class RangeTransferException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RangeTransferException(ulong rangeId, RangeSpan span, StatusCode? peerStatus, string message, Exception? inner = null)
        : base(message, inner)
    {
        RangeId = rangeId;
        Span = span;
        PeerStatus = peerStatus;
    }

    /// <summary>The range being fetched.</summary>
    public ulong RangeId { get; }

    /// <summary>The span being fetched.</summary>
    public RangeSpan Span { get; }

    /// <summary>The gRPC status the call ended with, or null when the stream itself was rejected on arrival.</summary>
    public StatusCode? PeerStatus { get; }
}
