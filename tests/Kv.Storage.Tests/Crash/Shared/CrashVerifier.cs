using Kv.Storage.Paxos;
using RocksDbSharp;

namespace Kv.Storage.Tests.Crash;

/// <summary>The outcome of checking a database after a crash.</summary>
/// <param name="AckedVerified">Acknowledged batches found present and intact.</param>
/// <param name="BatchesFound">Batches found in the database (acknowledged or not; each must be whole).</param>
/// <param name="Failures">Everything found wrong; empty when the database is as it must be.</param>
public sealed record CrashVerification(int AckedVerified, long BatchesFound, IReadOnlyList<string> Failures);

/// <summary>
/// Checks a crash writer's database: every acknowledged batch is present, every batch present is whole and
/// byte-exact (a synced write is atomic), each writer's batches form a prefix 0..h (a writer waits for each
/// acknowledgement before its next batch), and each group's Paxos state loads without corruption and equals
/// the state batch h leaves.
/// </summary>
public static class CrashVerifier
{
    /// <summary>Opens the database at <paramref name="directory"/> and checks it.</summary>
    public static CrashVerification Verify(string directory, IReadOnlyCollection<long> ackedIds, int writers)
    {
        var failures = new List<string>();
        using var store = NodeStore.Open(directory);
        var keysPerBatch = ScanData(store, failures);

        var lastSequence = new long[writers];
        Array.Fill(lastSequence, -1);
        var batchCount = new long[writers];
        foreach (var (id, keys) in keysPerBatch)
        {
            var (writer, sequence) = CrashWorkload.SplitBatchId(id);
            if (writer < 0 || writer >= writers) { failures.Add($"batch {id} from unknown writer {writer}"); continue; }
            if (keys != CrashWorkload.DataKeysPerBatch)
                failures.Add($"batch {id} (writer {writer}, seq {sequence}) is torn: {keys} of {CrashWorkload.DataKeysPerBatch} keys");
            lastSequence[writer] = Math.Max(lastSequence[writer], sequence);
            batchCount[writer]++;
        }
        for (int w = 0; w < writers; w++)
            if (batchCount[w] != lastSequence[w] + 1)
                failures.Add($"writer {w}: {batchCount[w]} batches stored but the last is seq {lastSequence[w]} (not a prefix)");

        int ackedVerified = 0;
        foreach (long id in ackedIds)
        {
            if (keysPerBatch.TryGetValue(id, out int keys) && keys == CrashWorkload.DataKeysPerBatch) ackedVerified++;
            else failures.Add($"acknowledged batch {id} (writer {CrashWorkload.SplitBatchId(id).Writer}, seq {CrashWorkload.SplitBatchId(id).Sequence}) is missing");
        }

        var paxos = new PaxosStateStore(store);
        for (int w = 0; w < writers; w++) CheckGroup(paxos, w, lastSequence[w], failures);
        CheckGroupList(paxos, lastSequence, failures);
        return new CrashVerification(ackedVerified, keysPerBatch.Count, failures);
    }

    // Counts the keys of every batch found, checking each value byte for byte.
    private static Dictionary<long, int> ScanData(NodeStore store, List<string> failures)
    {
        var keysPerBatch = new Dictionary<long, int>();
        var readOptions = new ReadOptions().SetVerifyChecksums(true)
            .SetIterateLowerBound(CrashWorkload.DataLowerBound).SetIterateUpperBound(CrashWorkload.DataUpperBound);
        using (var iterator = store.Db.NewIterator(store.Data, readOptions))
        {
            for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
            {
                var key = iterator.GetKeySpan();
                if (!CrashWorkload.TryParseDataKey(key, out long id, out int k))
                {
                    failures.Add($"unexpected data key {Convert.ToHexString(key)}");
                    continue;
                }
                if (!iterator.GetValueSpan().SequenceEqual(CrashWorkload.DataValue(id, k)))
                    failures.Add($"batch {id} key {k} holds wrong bytes");
                keysPerBatch[id] = keysPerBatch.GetValueOrDefault(id) + 1;
            }
            Native.Instance.rocksdb_iter_get_error(iterator.Handle);
        }
        GC.KeepAlive(readOptions);
        return keysPerBatch;
    }

    private static void CheckGroup(PaxosStateStore paxos, int writer, long lastSequence, List<string> failures)
    {
        long groupId = CrashWorkload.GroupOf(writer);
        try
        {
            var state = paxos.Load(groupId);
            if (lastSequence < 0)
            {
                if (state is not null) failures.Add($"group {groupId} has Paxos state but its writer has no batch stored");
                return;
            }
            if (state is null)
            {
                failures.Add($"group {groupId}: no Paxos state, but batches up to seq {lastSequence} are stored");
                return;
            }
            if (CrashWorkload.Difference(CrashWorkload.ExpectedState(writer, lastSequence), state) is { } difference)
                failures.Add($"group {groupId} (last batch {lastSequence}): {difference}");
        }
        catch (StorageCorruptionException e)
        {
            failures.Add($"group {groupId}: {e.Message}");
        }
    }

    private static void CheckGroupList(PaxosStateStore paxos, long[] lastSequence, List<string> failures)
    {
        var expected = Enumerable.Range(0, lastSequence.Length).Where(w => lastSequence[w] >= 0).Select(CrashWorkload.GroupOf);
        var listed = paxos.ListGroups();
        if (!listed.SequenceEqual(expected))
            failures.Add($"ListGroups returned [{string.Join(",", listed)}], expected [{string.Join(",", expected)}]");
    }
}
