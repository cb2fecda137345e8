namespace Kv.Txn.Checker.Tests.Workload;

/// <summary>
/// Builds a long valid serial history directly, with every read a slice of one growing buffer per key, so a
/// 20,000-transaction history takes linear memory (recording copies of every read would take gigabytes).
/// </summary>
internal static class SharedBufferHistory
{
    public static History Serial(int seed, int transactions, int keys, int opsPerTxnMax)
    {
        var rng = new Random(seed);
        var buffers = new long[keys][];
        var lengths = new int[keys];
        for (int key = 0; key < keys; key++) buffers[key] = new long[16];
        long nextElement = 1;
        var txns = new List<TxnRecord>(transactions);

        for (int id = 1; id <= transactions; id++)
        {
            int count = rng.Next(1, opsPerTxnMax + 1);
            var ops = new List<MicroOp>(count);
            for (int i = 0; i < count; i++)
            {
                int key = rng.Next(keys);
                if (rng.Next(2) == 0)
                {
                    ops.Add(MicroOp.Read($"k{key}", new ArraySegment<long>(buffers[key], 0, lengths[key])));
                    continue;
                }
                // Old slices keep pointing at the old buffer, whose prefix never changes.
                if (lengths[key] == buffers[key].Length) Array.Resize(ref buffers[key], buffers[key].Length * 2);
                buffers[key][lengths[key]++] = nextElement;
                ops.Add(MicroOp.Append($"k{key}", nextElement++));
            }
            txns.Add(new TxnRecord(id, TxnOutcome.Committed, ops, StartTicks: 2 * id, EndTicks: (2 * id) + 1));
        }
        return new History(txns);
    }
}
