using BenchmarkDotNet.Attributes;

namespace Kv.Benchmarks;

/// <summary>
/// A 3-replica Multi-Paxos group with an in-memory transport, single-threaded. Each invocation proposes
/// <see cref="Commands"/> commands (16–64 byte payloads, each with a ClientId/Sequence) at the leader and pumps
/// Readies and messages until every command is applied on all three replicas, with one tick of every replica
/// (heartbeats). Times and allocations are reported per committed command (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class PaxosGroupBenchmark
{
    /// <summary>Commands proposed per invocation (a constant because OperationsPerInvoke must be one).</summary>
    public const int Commands = 1024;

    private PaxosGroupHarness _group = null!;

    /// <summary>The most commands per slot: 1 = no batching; 1024 = the whole invocation in one slot.</summary>
    [Params(1, 64, 1024)]
    public int BatchCommandsMax { get; set; }

    /// <summary>Builds the group and elects a leader.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _group = CreateGroup(BatchCommandsMax);
        _group.Elect();
    }

    /// <summary>
    /// The window holds a whole invocation's slots (at least the default 64), so that the pipeline, not the window,
    /// limits a round.
    /// </summary>
    public static PaxosGroupHarness CreateGroup(int batchCommandsMax) =>
        new(batchCommandsMax, inflightSlotsMax: Math.Max(64, Commands / batchCommandsMax));

    /// <summary>Proposes a batch and commits it on all three replicas.</summary>
    [Benchmark(OperationsPerInvoke = Commands)]
    public long CommitOnAllReplicas()
    {
        _group.CommitBatch(Commands);
        return _group.Proposed;
    }
}
