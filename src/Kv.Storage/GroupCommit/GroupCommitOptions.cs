namespace Kv.Storage.GroupCommit;

/// <summary>The limits of a <see cref="GroupCommitter"/>.</summary>
public sealed record GroupCommitOptions
{
    /// <summary>
    /// How many writes may wait for the commit loop; a writer beyond it waits (asynchronously) for room, so a
    /// slow disk slows writers down instead of growing memory.
    /// </summary>
    public int QueuedWritesMax { get; init; } = 4096;

    /// <summary>How many writes one synced write may carry at most.</summary>
    public int WritesPerSyncMax { get; init; } = 1024;

    /// <summary>
    /// Once the shared batch reaches this size no more writes are added to it (one write may exceed it alone),
    /// which bounds the memory of a batch and the latency of its sync.
    /// </summary>
    public long BatchBytesMax { get; init; } = 16L * 1024 * 1024;

    /// <summary>
    /// How long the commit loop may wait, in microseconds, for the writers its last sync released before it starts
    /// the next sync (see <see cref="GroupCommitter"/>); 0 never waits. With 64 writers on this machine (and WAL
    /// recycling, since switched off), 50 µs raised throughput ≈ 20 % and cut the p99 from 4.2–5.8 to 2.6–3.7 fsync
    /// times (bench/results/storage.md).
    /// </summary>
    public int GatherMicrosMax { get; init; } = 50;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(QueuedWritesMax, 1, nameof(QueuedWritesMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(WritesPerSyncMax, 1, nameof(WritesPerSyncMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchBytesMax, 1, nameof(BatchBytesMax));
        ArgumentOutOfRangeException.ThrowIfNegative(GatherMicrosMax, nameof(GatherMicrosMax));
    }
}
