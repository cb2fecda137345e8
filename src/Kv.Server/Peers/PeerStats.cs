namespace Kv.Server.Peers;

/// <summary>A reading of one peer's outbound counters, for metrics and tests. Counters only grow.</summary>
/// <param name="NodeId">The remote node.</param>
/// <param name="MessagesSent">Messages written to a stream (delivery is likely, not certain).</param>
/// <param name="MessagesDropped">
/// Messages given up: refused because the queue was full, too large to send, or in a batch whose write failed.
/// </param>
/// <param name="BatchesSent">Batches written to a stream.</param>
/// <param name="BatchesAcked">Batches the receiver acknowledged.</param>
/// <param name="Reconnects">Streams opened after an earlier one failed or could not be opened.</param>
/// <param name="MessagesQueued">Messages waiting in the outbound queue now.</param>
/// <param name="UnackedBatches">Batches in flight now on the current stream.</param>
/// <param name="UnackedBatchesPeak">The most batches ever in flight at once (never above the window).</param>
/// <param name="TracedMessagesSent">
/// Messages written to a stream with trace contexts next to them (a traced proposal's Accepts; 0 while no tracer listens).
/// </param>
public sealed record PeerStats(
    ulong NodeId,
    long MessagesSent,
    long MessagesDropped,
    long BatchesSent,
    long BatchesAcked,
    long Reconnects,
    int MessagesQueued,
    int UnackedBatches,
    int UnackedBatchesPeak,
    long TracedMessagesSent = 0);
