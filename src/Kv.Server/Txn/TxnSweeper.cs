using Kv.Server.Clock;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Txn.Coordination;
using Microsoft.Extensions.Logging;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Txn;

/// <summary>
/// Finds orphans that no reader meets: every <c>interval</c>, in each range this node leads, the locks and the
/// unfinished records (PENDING, STAGING, or COMMITTED and not forgotten) older than twice the recovery delay, whose
/// transactions it then finishes (at most <see cref="PerRoundMax"/> per round, so a backlog cannot swamp the node) —
/// unless their records show them alive: a pessimistic transaction heartbeats its record while its body runs.
/// </summary>
internal sealed class TxnSweeper(ReplicaHost host, TxnCoordinator coordinator, HybridLogicalClock clock, TimeSpan recoverAfter,
    ILogger<TxnSweeper> logger) : IAsyncDisposable
{
    private const int PerRoundMax = 100;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>One round (also for tests); returns how many transactions it finished.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var now = await clock.NowAsync(cancellationToken).ConfigureAwait(false);
        var before = new StorageTimestamp(now.WallNanos - 2 * recoverAfter.Ticks * 100, 0);
        int finished = 0;
        foreach (var replica in host.Replicas())
        {
            if (!replica.IsLeader || replica.RangeId == RangeIds.Meta || finished >= PerRoundMax) continue;
            var (locks, records) = await host.StaleTransactionsAsync(replica.RangeId, before, cancellationToken).ConfigureAwait(false);
            foreach (var record in records.Take(PerRoundMax - finished))
            {
                logger.LogInformation("Sweeper: finishing transaction {Txn} (record {Status})", Kv.Txn.TxnWire.Hex(record.TxnId), record.Status);
                if (await coordinator.RecoverRecordAsync(record, cancellationToken).ConfigureAwait(false)) finished++;
            }
            foreach (var held in locks.DistinctBy(l => Kv.Txn.TxnWire.Hex(l.TxnId)).Take(PerRoundMax - finished))
            {
                logger.LogInformation("Sweeper: finishing transaction {Txn} (lock held since {Since})", Kv.Txn.TxnWire.Hex(held.TxnId), held.StagedAt);
                if (await coordinator.RecoverAsync(held, cancellationToken).ConfigureAwait(false)) finished++;
            }
        }
        return finished;
    }

    private Task RunAsync(CancellationToken ct) =>
        Kv.Server.Node.PeriodicRounds.RunAsync(recoverAfter, TimeSpan.FromSeconds(30), SweepOnceAsync, logger, LogLevel.Debug,
            "Transaction sweep", ct);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
