using Kv.Proto.V1;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Storage;
using Kv.Storage.Meta;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Snapshots;

/// <summary>
/// Removes this node's pieces and checkpoints of snapshots that will never be (or no longer are) published: those
/// the meta range aborted or deleted at once, and those with no manifest after <c>orphanTimeout</c> once an abort
/// of their id is chosen (conditional: it loses to a published manifest, and then the pieces stay).
/// </summary>
internal sealed class SnapshotSweeper(LocalSnapshots local, NodeStore store, RangeProposer proposer, TimeSpan orphanTimeout,
    ILogger<SnapshotSweeper> logger) : IAsyncDisposable
{
    private readonly MetaStore _meta = new(store);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>One round (also for tests); returns how many snapshots it removed from this node.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var held = local.List();
        if (held.Count == 0) return 0;
        // This node's meta replica (every node has one): a stale view only delays a removal to a later round,
        // since an orphan is removed only after an abort of it is chosen.
        var published = _meta.List(RangeStateKeys.SnapshotManifestPrefix).Select(kv => kv.Key[RangeStateKeys.SnapshotManifestPrefix.Length..]).ToHashSet();
        var aborted = _meta.List(RangeStateKeys.SnapshotAbortedPrefix).Select(kv => kv.Key[RangeStateKeys.SnapshotAbortedPrefix.Length..]).ToHashSet();
        int removed = 0;
        foreach (var (id, made) in held)
        {
            if (published.Contains(id)) continue;
            if (!aborted.Contains(id))
            {
                if (DateTime.UtcNow - made < orphanTimeout) continue;
                var result = await proposer.ProposeAsync(RangeIds.Meta, new RangeCommand { SnapshotAbort = new MetaSnapshotAbort { SnapshotId = id } },
                    cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded) continue;
            }
            logger.LogInformation("Snapshot sweep: removing the pieces and checkpoint of snapshot {Id} (aborted, deleted or orphaned)", id);
            local.Remove(id);
            removed++;
        }
        return removed;
    }

    private Task RunAsync(CancellationToken ct) =>
        Kv.Server.Node.PeriodicRounds.RunAsync(SweepInterval(orphanTimeout), TimeSpan.FromSeconds(30), SweepOnceAsync, logger, LogLevel.Debug,
            "Snapshot sweep", ct);

    /// <summary>Often enough that deleted snapshots' checkpoints go within seconds, and orphans soon after their timeout.</summary>
    internal static TimeSpan SweepInterval(TimeSpan orphanTimeout) =>
        TimeSpan.FromMilliseconds(Math.Clamp(orphanTimeout.TotalMilliseconds / 4, 100, 5_000));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
