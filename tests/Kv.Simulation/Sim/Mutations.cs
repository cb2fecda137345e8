using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>
/// Deliberately broken variants, each paired with the fault profile that exposes it, so that tests (and the
/// soak's --mutation flag) can show that the checkers catch them. "lease-attack" is the lease variant's profile
/// with the correct lease, to show that the profile alone finds nothing.
/// </summary>
public static class Mutations
{
    public static readonly string[] Names =
        ["none", "propose-own-value", "lease-without-drift", "lease-attack", "ack-before-durable", "quiesce-keeps-lease", "quiesce-attack",
         "leader-counts-self-before-durable", "early-accept-attack", "promise-without-sync"];

    public static Func<SimulationProfile, SimulationProfile>? Apply(string name) => name switch
    {
        "none" => null,
        // A new leader ignores what the promises report: it overwrites values that may have been chosen.
        "propose-own-value" => p => p with { ProtocolMutation = ProtocolMutation.ProposeOwnValue },
        // Leases as long as the election timeout: a deposed leader keeps serving reads after a successor has
        // been elected and has written.
        "lease-without-drift" => p => LeaseAttack(p) with { ProtocolMutation = ProtocolMutation.LeaseWithoutDriftBound },
        "lease-attack" => LeaseAttack,
        // A quiescing leader keeps its lease; its host stops ticking it, so the lease never runs out, and after
        // being cut off it serves reads that miss its successor's writes.
        "quiesce-keeps-lease" => p => QuiesceAttack(p) with { ProtocolMutation = ProtocolMutation.QuiesceKeepsLease },
        "quiesce-attack" => QuiesceAttack,
        // Replies before the writes are synced; crashes then forget promises and accepts.
        // (Without early Accepts: this host reports writes out of order, which only the old rule tolerates.)
        "ack-before-durable" => p => p with { HostMutation = HostMutation.AckBeforeDurable, CrashEveryUs = 20_000, FsyncMaxUs = 5_000, LeaderAcceptsBeforeDurable = false },
        // The leader's Accepts leave before its own write, yet it counts its own acceptance at once: a slot is
        // declared chosen (and applied by a follower) on one durable acceptance; the leader crashes before its write.
        "leader-counts-self-before-durable" => p => EarlyAcceptAttack(p) with { ProtocolMutation = ProtocolMutation.LeaderCountsSelfBeforeDurable },
        "early-accept-attack" => EarlyAcceptAttack,
        // A raised promise is written without a sync, like a chosen-prefix advance: its Promise leaves before it is
        // durable, a crash loses it, and the restarted acceptor accepts at a lower ballot it had promised to refuse.
        // (Early Accepts off: with them on, the simulator's EARLY check flags the undurable promise first.)
        "promise-without-sync" => p => p with { ProtocolMutation = ProtocolMutation.PromiseWithoutSync, CrashEveryUs = 20_000, FsyncMaxUs = 5_000, LeaderAcceptsBeforeDurable = false },
        _ => throw new ArgumentException($"unknown mutation '{name}'", nameof(name)),
    };

    /// <summary>
    /// Early Accepts with slow leader writes and frequent crashes: followers answer (and learn chosen slots) while the
    /// leader's own write of the same slots is still pending, and a crash often loses it.
    /// </summary>
    private static SimulationProfile EarlyAcceptAttack(SimulationProfile p) => p with
    {
        LeaderAcceptsBeforeDurable = true,
        Replicas = 3,
        CrashEveryUs = 30_000,
        CrashesTargetLeader = true,
        RestartAfterMaxUs = 20_000,
        FsyncMinUs = 300,
        FsyncMaxUs = 2_000,
        DelayMinUs = 50,
        DelayMaxUs = 300,
        LossRate = 0.05,
        PartitionEveryUs = 20_000,
        // Steady writes: every new slot's Accept carries the leader's latest chosen prefix to the followers.
        Clients = 6,
        WriteRate = 0.8,
        ClientThinkMaxUs = 500,
    };

    /// <summary>The lease attack with idle spells long enough for the group to quiesce between bursts of requests.</summary>
    private static SimulationProfile QuiesceAttack(SimulationProfile p) => LeaseAttack(p) with
    {
        QuiesceAfterTicks = 2,
        // Few clients, mostly at random nodes, with long pauses: the cut-off leader sleeps through its successor's
        // election and writes, and the first request to reach it may be a read.
        Clients = 2,
        ClientThinkMaxUs = 60_000,
        ClientRandomTargetRate = 0.9,
        PartitionEveryUs = 80_000,
        ClockDriftBound = 0.1,
        ActualDrift = 0.1,
    };

    /// <summary>Clocks at the extremes of a wide drift bound, and partitions that keep cutting the leader off.</summary>
    private static SimulationProfile LeaseAttack(SimulationProfile p) => p with
    {
        LeaseReads = true,
        ClockDriftBound = 0.5,
        ActualDrift = 0.5,
        ExtremeDrift = true,
        PartitionEveryUs = 40_000,
        PartitionsIsolateLeader = true,
        CrashEveryUs = 0,
        LossRate = 0,
        Clients = 6,
        WriteRate = 0.5,
        ClientRandomTargetRate = 0.5,
        ClientThinkMaxUs = 500,
    };
}
