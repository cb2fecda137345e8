using Kv.Storage.Paxos;
using RocksDbSharp;

namespace Kv.Storage.Tests.Crash;

/// <summary>
/// The crash test's own model must agree with itself: after each batch of a writer is stored, one at a time, the
/// group's state is exactly what the checker expects for that last batch. A kill right after a writer's first batch
/// once made the crash test fail on a correct database, because batch 0 wrote slot 0 unchosen and the checker
/// expected it chosen.
/// </summary>
public sealed class CrashWorkloadTests
{
    [Fact]
    public void StateAfterEachBatch_IsTheStateTheCheckerExpects()
    {
        using var directory = new ScratchDirectory("crash-workload");
        using var store = NodeStore.Open(directory.Path);
        var paxos = new PaxosStateStore(store);
        const int writer = 2;
        for (long sequence = 0; sequence <= 2 * CrashWorkload.SnapshotEverySlots + 3; sequence++)
        {
            using (var batch = new WriteBatch())
            {
                CrashWorkload.AddBatch(batch, store, paxos, writer, sequence, CrashWorkload.DataFor(CrashWorkload.BatchId(writer, sequence)));
                store.Db.Write(batch, store.SyncWrite);
            }
            var state = paxos.Load(CrashWorkload.GroupOf(writer));
            Assert.NotNull(state);
            Assert.Null(CrashWorkload.Difference(CrashWorkload.ExpectedState(writer, sequence), state));
        }
    }
}
