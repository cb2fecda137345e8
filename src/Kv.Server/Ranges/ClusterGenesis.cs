using Google.Protobuf;
using Kv.Paxos;
using Kv.Proto.V1;
using Kv.Storage;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Kv.Storage.Paxos;
using RocksDbSharp;
using PaxosConfiguration = Kv.Paxos.Configuration;

namespace Kv.Server.Ranges;

/// <summary>
/// The state a new cluster starts from (<c>init</c>): the meta range and the first user range over the whole key
/// space, both replicated on the initial members. Every initial member writes exactly the same state, so they
/// need not talk to agree on it; as with any Paxos group, they agree on everything after through the logs.
/// </summary>
public static class ClusterGenesis
{
    /// <summary>Whether the store already holds a range replica (the node was initialised before).</summary>
    public static bool IsInitialized(NodeStore store) => new PaxosStateStore(store).ListGroups().Count > 0;

    /// <summary>
    /// Writes the genesis of a cluster of <paramref name="nodes"/> in one synced batch: the meta range and one user
    /// range over every key, or (a restore) the user ranges <paramref name="userRanges"/> (spans and ids; replicated on
    /// every member, at generation 1), with <paramref name="alsoWrite"/> adding to the same batch.
    /// </summary>
    public static void Write(NodeStore store, IReadOnlyCollection<NodeInfo> nodes, IReadOnlyList<RangeDescriptor>? userRanges = null,
        Action<WriteBatch>? alsoWrite = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0) throw new ArgumentException("A cluster needs at least one member.", nameof(nodes));
        var members = nodes.Select(n => checked((int)n.NodeId)).ToArray();
        var configuration = new PaxosConfiguration(members);
        var replicas = members.Order().Select(m => (m, false)).ToArray();
        var metaDescriptor = Descriptors.Create(RangeIds.Meta, KeySpan.All, 1, replicas);
        var ranges = userRanges is { Count: > 0 }
            ? userRanges.Select(r => Descriptors.Create(r.RangeId, Descriptors.SpanOf(r), 1, replicas)).ToArray()
            : [Descriptors.Create(RangeIds.FirstUser, KeySpan.All, 1, replicas)];
        ulong nextRangeId = Math.Max(RangeIds.FirstAllocated, ranges.Max(r => r.RangeId) + 1);

        var meta = new MetaStore(store);
        using var batch = new WriteBatch();
        AddRange(batch, store, meta, metaDescriptor, configuration, RangeStateMachine.GenesisState(metaDescriptor, ranges, nextRangeId, nodes));
        foreach (var range in ranges) AddRange(batch, store, meta, range, configuration, RangeStateMachine.GenesisState(range));
        RangeStateMachine.WriteGenesisDirectory((k, v) => meta.Put(batch, k, v), ranges, nextRangeId, nodes);
        alsoWrite?.Invoke(batch);
        store.Db.Write(batch, store.SyncWrite);
    }

    /// <summary>Writes one new range replica's genesis (for a single range in tests and tools).</summary>
    public static void WriteRange(NodeStore store, RangeDescriptor descriptor, PaxosConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var batch = new WriteBatch();
        AddRange(batch, store, new MetaStore(store), descriptor, configuration, RangeStateMachine.GenesisState(descriptor));
        store.Db.Write(batch, store.SyncWrite);
    }

    private static void AddRange(WriteBatch batch, NodeStore store, MetaStore meta, RangeDescriptor descriptor, PaxosConfiguration configuration, byte[] genesisState)
    {
        AddPaxosGenesis(new PaxosStateStore(store), batch, descriptor.RangeId, configuration, genesisState);
        meta.Put(batch, RangeStateKeys.State(descriptor.RangeId), new RangeState { Range = descriptor }.ToByteArray());
    }

    /// <summary>
    /// Adds a new group's first durable Paxos state to <paramref name="batch"/>; its genesis snapshot carries
    /// <paramref name="genesisState"/>, so that a replica created later from that snapshot knows the range.
    /// </summary>
    public static void AddPaxosGenesis(PaxosStateStore paxos, WriteBatch batch, ulong rangeId, PaxosConfiguration configuration, byte[] genesisState)
    {
        ArgumentNullException.ThrowIfNull(paxos);
        var state = PersistentState.Bootstrap(configuration);
        paxos.AddToBatch(batch, checked((long)rangeId), new Ready { HardState = state.HardState, Snapshot = state.Snapshot with { Data = genesisState } });
    }
}
