using System.Diagnostics;
using Kv.Storage.GroupCommit;
using Kv.Storage.Paxos;
using Kv.Storage.Tests.Crash;
using RocksDbSharp;

namespace Kv.Storage.CrashWriter;

/// <summary>
/// <c>write &lt;dir&gt; [--mode group|direct] [--writers N] [--duration-ms D]</c>: writes the crash workload as
/// fast as it can and prints <c>ACK id</c> after each batch is durable. Without a duration it runs until killed;
/// with one it stops, prints <c>STATS …</c> (group commit counters) and <c>DONE acked=N</c>, and exits 0.
/// Memtables are flushed every <see cref="FlushIntervalMs"/> ms meanwhile, and each flush switches to a new WAL
/// file, so the kills also land in flushes and WAL switches.
/// </summary>
internal static class WriteCommand
{
    private const int FlushIntervalMs = 30;

    public static async Task<int> RunAsync(string directory, CrashWriteMode mode, int writers, int? durationMs)
    {
        var printer = new AckPrinter(Console.OpenStandardOutput());
        using var store = NodeStore.Open(directory);
        await using var committer = new GroupCommitter(store);
        var paxos = new PaxosStateStore(store, committer);
        using var stop = durationMs is int ms ? new CancellationTokenSource(ms) : new CancellationTokenSource();
        long acked = 0;

        var started = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, writers).Select(writer => mode == CrashWriteMode.Group
            ? Task.Run(() => GroupWriterAsync(store, committer, paxos, writer, printer, stop.Token, () => Interlocked.Increment(ref acked)))
            : Task.Factory.StartNew(() => DirectWriter(store, paxos, writer, printer, stop.Token, () => Interlocked.Increment(ref acked)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        var flusher = Task.Run(() => FlushPeriodicallyAsync(store, stop.Token));
        await Task.WhenAll(tasks).ConfigureAwait(false);
        await flusher.ConfigureAwait(false);

        double seconds = started.Elapsed.TotalSeconds;
        printer.Print($"STATS {committer.GetStats()}\n");
        printer.Print($"DONE acked={acked} batches_per_s={acked / seconds:F0}\n");
        return 0;
    }

    private static async Task FlushPeriodicallyAsync(NodeStore store, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(FlushIntervalMs, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            store.FlushAll();
        }
    }

    private static async Task GroupWriterAsync(NodeStore store, GroupCommitter committer, PaxosStateStore paxos,
        int writer, AckPrinter printer, CancellationToken stop, Func<long> countAck)
    {
        for (long sequence = 0; !stop.IsCancellationRequested; sequence++)
        {
            long id = CrashWorkload.BatchId(writer, sequence);
            var data = CrashWorkload.DataFor(id);
            // No cancellation token: a batch handed over is awaited to its outcome, so the sequence stays a prefix.
            await committer.CommitAsync((store, paxos, writer, sequence, data),
                static (batch, s) => CrashWorkload.AddBatch(batch, s.store, s.paxos, s.writer, s.sequence, s.data)).ConfigureAwait(false);
            printer.Ack(id);
            countAck();
        }
    }

    private static void DirectWriter(NodeStore store, PaxosStateStore paxos, int writer, AckPrinter printer,
        CancellationToken stop, Func<long> countAck)
    {
        for (long sequence = 0; !stop.IsCancellationRequested; sequence++)
        {
            long id = CrashWorkload.BatchId(writer, sequence);
            using (var batch = new WriteBatch())
            {
                CrashWorkload.AddBatch(batch, store, paxos, writer, sequence, CrashWorkload.DataFor(id));
                store.Db.Write(batch, store.SyncWrite);
            }
            printer.Ack(id);
            countAck();
        }
    }
}
