namespace Kv.Server.Peers;

/// <summary>
/// The limits of a <see cref="PeerTransport"/>. Every queue and window is bounded, so that a slow or dead peer
/// costs at most <see cref="OutboundMessagesMax"/> queued messages and <see cref="UnackedBatchesMax"/> batches.
/// </summary>
public sealed record PeerTransportOptions
{
    /// <summary>Messages queued for one peer; beyond this, <see cref="PeerTransport.Send"/> drops (Paxos tolerates loss).</summary>
    public int OutboundMessagesMax { get; init; } = 16_384;

    /// <summary>Messages in one <c>PeerBatch</c> (of any groups).</summary>
    public int BatchMessagesMax { get; init; } = 512;

    /// <summary>
    /// Encoded bytes of one batch: it closes once the next message would pass this. A single larger message (a
    /// snapshot) travels alone, up to <see cref="MessageBytesMax"/>.
    /// </summary>
    public int BatchBytesMax { get; init; } = 256 * 1024;

    /// <summary>
    /// Encoded bytes of one message; larger ones are dropped and counted. Must stay below the receiving server's
    /// gRPC <c>MaxReceiveMessageSize</c> minus the batch framing: <c>KvServerSetup.ConfigureGrpc</c> sets it to this
    /// plus 64 KiB. Room for Accepts cut at <c>ReplicaOptions.MessageValueBytesMax</c> (8 MiB) plus one slot holding
    /// a maximum-size (4 MiB) value.
    /// </summary>
    public int MessageBytesMax { get; init; } = 32 * 1024 * 1024;

    /// <summary>Batches written but not yet acknowledged by the receiver (the back-pressure window).</summary>
    public int UnackedBatchesMax { get; init; } = 8;

    /// <summary>The first reconnect delay; it doubles per failed attempt, with jitter.</summary>
    public TimeSpan ReconnectDelayMin { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest reconnect delay, so that a peer that comes back is found soon.</summary>
    public TimeSpan ReconnectDelayMax { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a TCP connect may take before the attempt counts as failed.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Idle time after which an HTTP/2 ping checks the connection; with <see cref="KeepAlivePingTimeout"/> it
    /// detects a peer that vanished without closing the socket (which would otherwise hold the window forever).
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a keep-alive ping may go unanswered before the connection is dropped.</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long after the first attempt to reach a peer that has not been reached yet its connection failures are
    /// expected: a starting cluster's nodes come up one after another. Within it they are an information line; a peer
    /// still unreachable after it gets the warning. Once a peer was reached, its first failure warns at once.
    /// </summary>
    public TimeSpan FirstContactGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws when a limit is out of range.</summary>
    public void Validate()
    {
        if (OutboundMessagesMax < 1) throw new ArgumentOutOfRangeException(nameof(OutboundMessagesMax), OutboundMessagesMax, "At least 1.");
        if (BatchMessagesMax < 1) throw new ArgumentOutOfRangeException(nameof(BatchMessagesMax), BatchMessagesMax, "At least 1.");
        if (BatchBytesMax < 1) throw new ArgumentOutOfRangeException(nameof(BatchBytesMax), BatchBytesMax, "At least 1.");
        if (MessageBytesMax < BatchBytesMax)
            throw new ArgumentOutOfRangeException(nameof(MessageBytesMax), MessageBytesMax, "At least BatchBytesMax.");
        if (UnackedBatchesMax < 1) throw new ArgumentOutOfRangeException(nameof(UnackedBatchesMax), UnackedBatchesMax, "At least 1.");
        if (ReconnectDelayMin <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ReconnectDelayMin), ReconnectDelayMin, "Positive.");
        if (ReconnectDelayMax < ReconnectDelayMin)
            throw new ArgumentOutOfRangeException(nameof(ReconnectDelayMax), ReconnectDelayMax, "At least ReconnectDelayMin.");
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "Positive.");
        if (KeepAlivePingDelay <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(KeepAlivePingDelay), KeepAlivePingDelay, "Positive.");
        if (KeepAlivePingTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(KeepAlivePingTimeout), KeepAlivePingTimeout, "Positive.");
        if (FirstContactGrace < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(FirstContactGrace), FirstContactGrace, "Zero or more.");
    }
}
