namespace Kv.Paxos;

/// <summary>
/// What the host reports durable, and what may therefore leave before a Ready's writes are (PAXOS.md §10): a leader's
/// Accepts go out at once, in parallel with its own write of them, and it counts its own acceptance toward a quorum
/// only once the host reports that write durable.
/// </summary>
public sealed partial class Replica
{
    private long _readySequence;        // the Sequence of the last non-empty Ready handed out
    private long _durableReadySequence; // every Ready up to this one is reported durable
    private Ballot _durablePromised;    // the promise register as of the last Ready reported durable
    private (long Sequence, Ballot Promised) _promiseWrite; // the latest Ready that raised the promise

    /// <summary>
    /// The host reports that the writes of every Ready up to <paramref name="readySequence"/> (its
    /// <see cref="Ready.Sequence"/>) are durable. A leader then counts its own acceptance of the slots those Readies
    /// wrote, which may choose them: take the next Ready afterwards. Reporting a Ready twice, or out of order after a
    /// later one, is harmless.
    /// </summary>
    public void Persisted(long readySequence)
    {
        if (readySequence > _readySequence)
            throw new ArgumentOutOfRangeException(nameof(readySequence), $"Ready {readySequence} has not been handed out (the last is {_readySequence}).");
        if (readySequence <= _durableReadySequence) return;
        _durableReadySequence = readySequence;
        // Only the latest promise write is remembered: if a later one is still in flight, the durable promise stays
        // where it was, which only keeps Accepts late a little longer.
        if (_promiseWrite.Sequence != 0 && _promiseWrite.Sequence <= readySequence) _durablePromised = Ballot.Max(_durablePromised, _promiseWrite.Promised);
        if (_leader is { } leader) CountDurableSelfAccepts(leader);
    }

    /// <summary>
    /// Sends a leader's Accept: early when the leader's ballot is durably promised here (so no restart of this
    /// replica can reuse it, §10 condition c), otherwise with the Ready's other messages after its writes.
    /// </summary>
    private void SendAccept(Accept accept)
    {
        if (_options.LeaderAcceptsBeforeDurable && accept.Ballot <= _durablePromised) (_outEarlyMessages ??= []).Add(accept);
        else Send(accept);
    }

    /// <summary>
    /// Records the leader's own acceptance of a slot it proposes now. With early Accepts it counts only once the
    /// Ready that writes it (the next one handed out) is reported durable (§10 condition a).
    /// </summary>
    private void RecordOwnAccept(InflightSlot inflight)
    {
        if (_options.LeaderAcceptsBeforeDurable && _options.Mutation != ProtocolMutation.LeaderCountsSelfBeforeDurable)
            inflight.OwnAcceptReady = _readySequence + 1;
        else
            inflight.AcceptedBy.Add(Id);
    }

    private void CountDurableSelfAccepts(LeaderState leader)
    {
        List<long>? durable = null;
        foreach (var (slot, inflight) in leader.Inflight)
            if (inflight.OwnAcceptReady != 0 && inflight.OwnAcceptReady <= _durableReadySequence) (durable ??= []).Add(slot);
        if (durable is null) return;
        durable.Sort();
        foreach (long slot in durable)
        {
            var inflight = leader.Inflight[slot];
            inflight.OwnAcceptReady = 0;
            if (!inflight.AcceptedBy.Contains(Id)) inflight.AcceptedBy.Add(Id);
            TryChoose(slot, inflight);
        }
        AdvanceChosenPrefix();
    }
}
