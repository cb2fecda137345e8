namespace Kv.Txn.Checker.Tests.Workload;

/// <summary>
/// Drives random list-append transactions against an <see cref="InMemoryListDatabase"/> and records them, all on
/// one thread from one seed, so a failing run is replayed exactly. Up to <see cref="Concurrency"/> transactions are
/// open at once and their steps interleave at random; concurrency 1 executes them one at a time in a random serial
/// order. An append is what a real client does with a list-valued key: read the list, write it back one longer.
/// </summary>
internal sealed class ListAppendWorkload
{
    public required int Seed { get; init; }

    public int Transactions { get; init; } = 500;

    public int Keys { get; init; } = 4;

    public int OpsPerTxnMax { get; init; } = 4;

    public int Concurrency { get; init; } = 1;

    /// <summary>Chance that a client gives up on a finished transaction instead of committing it.</summary>
    public double ClientAbortProbability { get; init; } = 0.05;

    /// <summary>Chance that a client loses the commit reply and records the outcome as unknown.</summary>
    public double LostReplyProbability { get; init; } = 0.05;

    public History Run(InMemoryListDatabase database)
    {
        var rng = new Random(Seed);
        long ticks = 0;
        var recorder = new HistoryRecorder(() => ticks);
        var open = new List<Client>();
        long nextElement = 1;
        int started = 0;

        while (started < Transactions || open.Count > 0)
        {
            ticks++;
            bool mayStart = started < Transactions && open.Count < Concurrency;
            if (mayStart && (open.Count == 0 || rng.Next(2) == 0))
            {
                open.Add(new Client(database.Begin(), recorder.Begin(), Plan(rng)));
                started++;
                continue;
            }

            var client = open[rng.Next(open.Count)];
            if (client.NextStep < client.Steps.Count)
            {
                var (isAppend, key) = client.Steps[client.NextStep++];
                var list = client.Txn.Read(key);
                if (isAppend)
                {
                    long element = nextElement++;
                    client.Txn.Write(key, [.. list, element]);
                    client.Recorder.Append(key, element);
                }
                else
                {
                    client.Recorder.Read(key, list);
                }
                continue;
            }

            open.Remove(client);
            client.Recorder.Complete(Finish(rng, client));
        }
        return recorder.ToHistory();
    }

    private TxnOutcome Finish(Random rng, Client client)
    {
        if (rng.NextDouble() < ClientAbortProbability) return TxnOutcome.Aborted;
        var outcome = client.Txn.Commit() ? TxnOutcome.Committed : TxnOutcome.Aborted;
        return rng.NextDouble() < LostReplyProbability ? TxnOutcome.Unknown : outcome;
    }

    private List<(bool IsAppend, string Key)> Plan(Random rng)
    {
        int count = rng.Next(1, OpsPerTxnMax + 1);
        var steps = new List<(bool, string)>(count);
        for (int i = 0; i < count; i++) steps.Add((rng.Next(2) == 0, $"k{rng.Next(Keys)}"));
        return steps;
    }

    private sealed class Client(InMemoryListDatabase.ListTransaction txn, TxnRecorder recorder, List<(bool IsAppend, string Key)> steps)
    {
        public InMemoryListDatabase.ListTransaction Txn { get; } = txn;

        public TxnRecorder Recorder { get; } = recorder;

        public List<(bool IsAppend, string Key)> Steps { get; } = steps;

        public int NextStep { get; set; }
    }
}
