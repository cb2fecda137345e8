using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>
/// Deliberately broken variants, each paired with the fault profile that exposes it, so that tests (and the
/// soak's --mutation flag) can show that the checkers catch them. "lease-attack" is the lease variant's profile
/// with the correct lease, to show that the profile alone finds nothing.
/// </summary>
public static class Mutations
{
    public static readonly string[] Names = ["none", "propose-own-value", "lease-without-drift", "lease-attack", "ack-before-durable"];

    public static Func<SimulationProfile, SimulationProfile>? Apply(string name) => name switch
    {
        "none" => null,
        // A new leader ignores what the promises report: it overwrites values that may have been chosen.
        "propose-own-value" => p => p with { ProtocolMutation = ProtocolMutation.ProposeOwnValue },
        // Leases as long as the election timeout: a deposed leader keeps serving reads after a successor has
        // been elected and has written.
        "lease-without-drift" => p => LeaseAttack(p) with { ProtocolMutation = ProtocolMutation.LeaseWithoutDriftBound },
        "lease-attack" => LeaseAttack,
        // Replies before the writes are synced; crashes then forget promises and accepts.
        "ack-before-durable" => p => p with { HostMutation = HostMutation.AckBeforeDurable, CrashEveryUs = 20_000, FsyncMaxUs = 5_000 },
        _ => throw new ArgumentException($"unknown mutation '{name}'", nameof(name)),
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
