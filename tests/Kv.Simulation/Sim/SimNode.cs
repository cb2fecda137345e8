using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>One simulated machine: its disk survives crashes; everything else is rebuilt on restart.</summary>
public sealed class SimNode
{
    public SimNode(int id, PersistentState initial)
    {
        Id = id;
        Disk = new SimDisk(initial);
    }

    public int Id { get; }
    public SimDisk Disk { get; }
    public Replica? Replica { get; set; }
    public KvStateMachine StateMachine { get; } = new();
    /// <summary>Bumped on every crash so that events scheduled by the previous incarnation are ignored.</summary>
    public int Incarnation { get; set; }
    public double TickRate { get; set; } = 1.0;
    public bool IsUp => Replica is not null;
    public long SmAppliedUpTo { get; set; }
    public Queue<Ready> PendingReadies { get; } = new();
    public bool SyncInFlight { get; set; }
    public Dictionary<(long Client, long Seq), int> PendingWrites { get; } = new();
    public Dictionary<long, (int Client, long OpId, string Key)> PendingReads { get; } = new();
    public long NextReadId { get; set; }
    /// <summary>When the host last heard anything from each peer node (sim µs): its node liveness.</summary>
    public Dictionary<int, long> LastHeardUs { get; } = new();

    public int TicksSincePing { get; set; }

    /// <summary>Whether this node is (still) meant to be in the group; removed nodes are not restarted.</summary>
    public bool Member { get; set; } = true;
}
