using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>The simulated host's node-liveness message (one per node pair and heartbeat interval); never stepped.</summary>
public sealed record NodePing(int From, int To) : PaxosMessage(From, To, Ballot.Zero);
