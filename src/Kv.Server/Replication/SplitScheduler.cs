using Kv.Server.Ranges;
using Kv.Storage.Ranges;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Replication;

/// <summary>
/// Every <c>interval</c>, on this node: splits each range it leads whose data has grown past the threshold (at
/// the key that halves it), repairs meta entries left stale by a crash mid-split, and adopts ranges the directory
/// places here that the node lacks (see <see cref="ReplicaHost.AdoptMissingReplicas"/>). Only leaders act, so one
/// node per range decides; a split that races another is refused by the range's generation check.
/// </summary>
public sealed class SplitScheduler(
    ReplicaHost host, RangeSplitter splitter, RangeDirectory directory, RangeDataOps data, long splitBytes, TimeSpan interval, ILogger<SplitScheduler> logger)
    : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Starts the periodic check.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>One round of checks (also for tests).</summary>
    public async Task CheckOnceAsync(CancellationToken cancellationToken)
    {
        host.AdoptMissingReplicas(directory.All);
        await splitter.ReconcileAsync(cancellationToken).ConfigureAwait(false);
        foreach (var r in host.Replicas())
        {
            if (!r.IsLeader || r.RangeId == RangeIds.Meta) continue;
            var span = Descriptors.SpanOf(r.Descriptor);
            var rangeSpan = new RangeSpan(span.Start, span.End ?? []);
            long size = data.ApproximateSizeBytes(rangeSpan);
            if (size < splitBytes) continue;
            byte[]? key = data.FindMiddleKey(rangeSpan);
            if (key is null) continue; // one key holds everything: nothing to split
            logger.LogInformation("Range {Range} holds about {Bytes} bytes (threshold {Threshold}); splitting", r.RangeId, size, splitBytes);
            await splitter.SplitAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task RunAsync(CancellationToken ct) =>
        Kv.Server.Node.PeriodicRounds.RunAsync(interval, TimeSpan.FromMinutes(1), CheckOnceAsync, logger, LogLevel.Warning, "Split check", ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
