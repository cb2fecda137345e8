namespace Kv.Paxos;

/// <summary>
/// A state-machine snapshot that replaces the log below <see cref="Index"/>: it holds the effect of applying
/// every slot in [0, Index). The data is opaque to Paxos; the configurations are Paxos' own.
/// </summary>
public sealed record Snapshot(long Index, IReadOnlyList<ConfigHistoryEntry> Configurations, ReadOnlyMemory<byte> Data)
{
    /// <summary>The state of a new group: nothing applied, the initial members in force from slot 0.</summary>
    public static Snapshot Genesis(Configuration configuration) =>
        new(0, [new ConfigHistoryEntry(0, -1, configuration)], ReadOnlyMemory<byte>.Empty);
}
