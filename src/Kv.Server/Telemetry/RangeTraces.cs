using System.Diagnostics;
using Kv.Paxos;

namespace Kv.Server.Telemetry;

/// <summary>
/// What one range replica tracks for traced proposals, touched only by the replica loop; a range without any has none
/// of this (<c>HostedRange.Traces</c> is null), so untraced work pays one null check.
/// On the leader: sampled proposals until their slot is known, then traced slots until chosen, so that Accepts for
/// them carry the proposals' traceparents and acknowledgements become events on their spans. A slot holds a batch of
/// commands, so several traced proposals may share it: each gets its own context on the wire and its own follower span.
/// On a follower: the <c>paxos.accept</c> spans opened this round, until the Accepted reply leaves.
/// </summary>
internal sealed class RangeTraces(ulong rangeId, ulong nodeId)
{
    private readonly Dictionary<(long Client, long Sequence), Activity> _proposals = [];
    private readonly Dictionary<long, List<Activity>> _slots = [];
    private readonly Dictionary<(long Slot, string TraceParent), Activity> _accepts = [];

    /// <summary>Nothing tracked: the range may drop this object.</summary>
    public bool IsEmpty => _proposals.Count == 0 && _slots.Count == 0 && _accepts.Count == 0;

    /// <summary>Whether follower spans are open (to end at the end of the round).</summary>
    public bool HasOpenAccepts => _accepts.Count > 0;

    /// <summary>Leader: a sampled proposal the replica took.</summary>
    public void Proposed(Command command, Activity span) => _proposals[(command.ClientId, command.Sequence)] = span;

    /// <summary>
    /// Leader, for each Ready taken: the entries it persists name the slots its traced proposals got (a leader
    /// persists every value it proposes, in the Ready whose Accepts carry it).
    /// </summary>
    public void Placed(Ready ready)
    {
        if (_proposals.Count == 0) return;
        foreach (var entry in ready.Entries)
            foreach (var command in entry.Value.Commands)
                if (_proposals.Remove((command.ClientId, command.Sequence), out var span))
                {
                    if (!_slots.TryGetValue(entry.Slot, out var spans)) _slots[entry.Slot] = spans = [];
                    spans.Add(span);
                }
    }

    /// <summary>Leader: the traced slots among an Accept's, one entry per traced proposal; null when none.</summary>
    public List<TracedSlot>? TracedSlotsOf(Accept accept)
    {
        if (_slots.Count == 0) return null;
        List<TracedSlot>? traced = null;
        foreach (var proposed in accept.Slots)
            if (_slots.TryGetValue(proposed.Slot, out var spans))
                foreach (var span in spans)
                    if (KvTracing.TraceParentOf(span) is { } traceParent) (traced ??= []).Add(new TracedSlot(proposed.Slot, traceParent));
        return traced;
    }

    /// <summary>Leader: a replica's Accepted, an event on each traced slot's spans.</summary>
    public void Acknowledged(Accepted accepted)
    {
        if (_slots.Count == 0) return;
        foreach (long slot in accepted.Slots)
            if (_slots.TryGetValue(slot, out var spans))
                foreach (var span in spans) KvTracing.AddAccepted(span, slot, (ulong)accepted.From);
    }

    /// <summary>
    /// Leader, once a Ready is durable: its own acceptance of the traced slots it wrote, the traced slots it hands to
    /// the state machine as chosen (forgotten then), and proposals whose span ended without them (refused, abandoned,
    /// cancelled: nothing left to report).
    /// </summary>
    public void Durable(Ready ready)
    {
        if (_slots.Count > 0)
        {
            // An entry rewritten as chosen later is not a second acceptance.
            foreach (var entry in ready.Entries)
                if (!entry.Chosen && _slots.TryGetValue(entry.Slot, out var spans))
                    foreach (var span in spans) KvTracing.AddAccepted(span, entry.Slot, nodeId);
            foreach (var chosen in ready.Chosen)
                if (_slots.Remove(chosen.Slot, out var spans))
                    foreach (var span in spans) KvTracing.AddChosen(span, chosen.Slot);
        }
        RemoveEnded();
    }

    private void RemoveEnded()
    {
        List<(long Client, long Sequence)>? endedProposals = null;
        foreach (var (key, span) in _proposals)
            if (span.IsStopped) (endedProposals ??= []).Add(key);
        if (endedProposals is not null)
            foreach (var key in endedProposals) _proposals.Remove(key);
        List<long>? emptySlots = null;
        foreach (var (slot, spans) in _slots)
            if (spans.RemoveAll(span => span.IsStopped) > 0 && spans.Count == 0) (emptySlots ??= []).Add(slot);
        if (emptySlots is not null)
            foreach (long slot in emptySlots) _slots.Remove(slot);
    }

    /// <summary>Follower: a traced Accept arrived; opens a <c>paxos.accept</c> span per traced proposal in it.</summary>
    public void AcceptArrived(Accept accept, IReadOnlyList<TracedSlot> traced)
    {
        foreach (var slot in traced)
        {
            if (KvTracing.StartAccept(slot.TraceParent, rangeId, slot.Slot, nodeId, (ulong)accept.From) is not { } span) continue;
            // A retransmission within the round supersedes the earlier span.
            if (_accepts.Remove((slot.Slot, slot.TraceParent), out var earlier)) End(earlier, accepted: false);
            _accepts[(slot.Slot, slot.TraceParent)] = span;
        }
    }

    /// <summary>Follower: the Accepted reply was handed to the transport, after the durable write; ends those spans.</summary>
    public void Replied(Accepted accepted)
    {
        if (_accepts.Count == 0) return;
        List<(long Slot, string TraceParent)>? answered = null;
        foreach (var key in _accepts.Keys)
            if (accepted.Slots.Contains(key.Slot)) (answered ??= []).Add(key);
        if (answered is null) return;
        foreach (var key in answered)
            if (_accepts.Remove(key, out var span)) End(span, accepted: true);
    }

    /// <summary>
    /// Follower, at the end of the loop's round: Accepts not answered in it were refused (a newer ballot was promised)
    /// or not taken; their spans end marked so.
    /// </summary>
    public void EndRound()
    {
        foreach (var span in _accepts.Values) End(span, accepted: false);
        _accepts.Clear();
    }

    private static void End(Activity span, bool accepted)
    {
        span.SetTag("kv.accepted", accepted);
        if (!accepted) span.SetStatus(ActivityStatusCode.Error, "not accepted: the replica refused the ballot or did not reply this round");
        KvTracing.StopDetached(span);
    }
}
