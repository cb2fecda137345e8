using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>One compact line per message for traces, e.g. <c>1->2 Accept b=3.1 slots=5..7 tenure=4 chosen&lt;5</c>.</summary>
public static class MessageFormat
{
    public static string Describe(PaxosMessage m)
    {
        string head = $"{m.From}->{m.To} {m.GetType().Name} b={m.Ballot}";
        return m switch
        {
            Prepare p => $"{head} from={p.FromSlot}{(p.PreVote ? " prevote" : "")}{(p.TransferFrom is { } t ? $" transfer={t}" : "")}",
            Promise p => $"{head}{(p.PreVote ? " prevote" : "")} granted={p.Granted} promised={p.Promised} entries={Slots(p.Entries.Select(e => e.Slot))} chosen<{p.ChosenPrefix} snap={p.SnapshotIndex}",
            Accept a => $"{head} slots={Slots(a.Slots.Select(s => s.Slot))} [{string.Join(" ", a.Slots.Take(4).Select(s => s.Value))}] tenure={a.TenureStart} chosen<{a.ChosenBelow}",
            Accepted a => $"{head} slots={Slots(a.Slots)} chosen<{a.ChosenPrefix}",
            Heartbeat h => $"{head} seq={h.Sequence} tenure={h.TenureStart} chosen<{h.ChosenBelow}",
            HeartbeatAck h => $"{head} seq={h.Sequence} chosen<{h.ChosenPrefix} seen<{h.ChosenBelowSeen}",
            Rejected r => $"{head} promised={r.Promised}",
            ChosenValues c => $"{head} slots={Slots(c.Slots.Select(s => s.Slot))}",
            InstallSnapshot s => $"{head} index={s.Snapshot.Index}",
            CatchUpAck c => $"{head} chosen<{c.ChosenPrefix}",
            CatchUpRequest c => $"{head} from={c.FromSlot}",
            _ => head,
        };
    }

    private static string Slots(IEnumerable<long> slots)
    {
        var list = slots.ToList();
        return list.Count == 0 ? "-" : list.Count == 1 ? $"{list[0]}" : $"{list.Min()}..{list.Max()}({list.Count})";
    }
}
