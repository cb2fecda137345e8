namespace Kv.Simulation.Sim;

/// <summary>Which host bug to plant, to prove the checkers catch it.</summary>
public enum HostMutation
{
    None,
    /// <summary>Messages and applies go out before the Ready's writes are durable; a crash loses the writes.</summary>
    AckBeforeDurable,
}

/// <summary>
/// The shape of one simulated run, drawn from its seed: cluster size, fault rates, timing and tuning.
/// Times are in simulated microseconds.
/// </summary>
public sealed record SimulationProfile
{
    public int Replicas { get; init; } = 3;
    public double LossRate { get; init; }
    public double DuplicateRate { get; init; }
    public long DelayMinUs { get; init; } = 50;
    public long DelayMaxUs { get; init; } = 1_000;
    public double DelaySpikeRate { get; init; }
    public long DelaySpikeMaxUs { get; init; } = 30_000;
    /// <summary>Mean time between partition changes; 0 for none.</summary>
    public long PartitionEveryUs { get; init; }
    /// <summary>Every partition cuts the current leader off (the setup for stale-leader bugs).</summary>
    public bool PartitionsIsolateLeader { get; init; }
    /// <summary>Mean time between crashes; 0 for none.</summary>
    public long CrashEveryUs { get; init; }
    public long RestartAfterMaxUs { get; init; } = 100_000;
    /// <summary>Every crash takes down the current leader, if there is one (the setup for lost leader writes).</summary>
    public bool CrashesTargetLeader { get; init; }
    public double ClockDriftBound { get; init; } = 0.1;
    /// <summary>How far actual drift goes; above the bound only to show the lease needs it.</summary>
    public double ActualDrift { get; init; } = 0.1;
    /// <summary>Clocks run at the extremes of the drift (1 ± drift) rather than anywhere between.</summary>
    public bool ExtremeDrift { get; init; }
    public long TickUs { get; init; } = 1_000;
    public long FsyncMinUs { get; init; } = 30;
    public long FsyncMaxUs { get; init; } = 300;
    public bool MembershipChanges { get; init; }
    public int CompactEverySlots { get; init; } = 100;
    public bool LeaseReads { get; init; } = true;
    public int InflightSlotsMax { get; init; } = 16;
    public int BatchCommandsMax { get; init; } = 16;
    /// <summary>Value bytes per Accept or catch-up message; small values make many messages.</summary>
    public int MessageValueBytesMax { get; init; } = 8 << 20;
    public int ElectionTimeoutTicks { get; init; } = 10;
    public int HeartbeatIntervalTicks { get; init; } = 2;

    /// <summary>Idle groups quiesce after this many ticks (0: never); the host then skips their ticks (PAXOS.md §8).</summary>
    public int QuiesceAfterTicks { get; init; }
    public int Clients { get; init; } = 3;
    public double WriteRate { get; init; } = 0.5;
    /// <summary>Chance that a client sends a new operation to a random node instead of the last one that answered.</summary>
    public double ClientRandomTargetRate { get; init; } = 0.1;
    public int Keys { get; init; } = 4;
    public long ClientThinkMaxUs { get; init; } = 3_000;
    public long FaultPhaseUs { get; init; } = 600_000;
    public long LivenessBoundUs { get; init; } = 2_000_000;
    /// <summary>Leaders send their Accepts before their own write of them is durable (PAXOS.md §10).</summary>
    public bool LeaderAcceptsBeforeDurable { get; init; } = true;
    internal Kv.Paxos.ProtocolMutation ProtocolMutation { get; init; }
    public HostMutation HostMutation { get; init; }

    /// <summary>Draws a profile from a seed: every run mixes a different set of faults.</summary>
    public static SimulationProfile FromSeed(long seed)
    {
        var r = new Random(unchecked((int)(seed * 2654435761L ^ (seed >> 32))));
        T Pick<T>(params T[] options) => options[r.Next(options.Length)];
        return new SimulationProfile
        {
            Replicas = r.NextDouble() < 0.7 ? 3 : 5,
            LossRate = Pick(0.0, 0.01, 0.05, 0.2),
            DuplicateRate = Pick(0.0, 0.01, 0.1),
            DelayMaxUs = Pick(300L, 1_000L, 4_000L),
            DelaySpikeRate = Pick(0.0, 0.005, 0.03),
            PartitionEveryUs = Pick(0L, 30_000L, 100_000L),
            CrashEveryUs = Pick(0L, 50_000L, 150_000L),
            MembershipChanges = r.NextDouble() < 0.25,
            CompactEverySlots = Pick(8, 40, 1_000),
            LeaseReads = r.NextDouble() < 0.7,
            InflightSlotsMax = Pick(2, 8, 32),
            BatchCommandsMax = Pick(1, 4, 32),
            MessageValueBytesMax = Pick(100, 1_000, 8 << 20),
            FsyncMaxUs = Pick(100L, 500L, 2_000L),
            QuiesceAfterTicks = Pick(0, 0, 4, 8),
            // Drawn last, so that the draws above (and the profiles of the regression seeds) stay as they were.
            LeaderAcceptsBeforeDurable = r.NextDouble() < 0.8,
        };
    }
}
