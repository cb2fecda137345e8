using HdrHistogram;

namespace Kv.Load;

/// <summary>
/// One worker's measured operations: latencies of the successful ones (and of their commits) per variant (one
/// variant, except <c>--op compare</c>: put, Paxos commit, 2PC), and the failures by kind.
/// </summary>
internal sealed class WorkerResult
{
    public WorkerResult(int variants, long latencyUsMax)
    {
        Histograms = new LongHistogram[variants];
        CommitHistograms = new LongHistogram[variants];
        Retries = new long[variants];
        for (int v = 0; v < variants; v++)
        {
            Histograms[v] = new LongHistogram(latencyUsMax, 3);
            CommitHistograms[v] = new LongHistogram(latencyUsMax, 3);
        }
    }

    /// <summary>Latency of each whole operation, per variant (µs).</summary>
    public LongHistogram[] Histograms { get; }

    /// <summary>Transfers: the latency of the commit alone (the attempt that committed), per variant (µs).</summary>
    public LongHistogram[] CommitHistograms { get; }

    /// <summary>Transfers: attempts run again after a conflict, by measured transactions that succeeded, per variant.</summary>
    public long[] Retries { get; }

    public long Errors { get; private set; }

    /// <summary>Failures by kind, with the first message of each kind and how long the failed operations took (µs).</summary>
    public Dictionary<string, (long Count, string FirstMessage, long TotalUs, long MaxUs)> ErrorKinds { get; } = new(StringComparer.Ordinal);

    /// <param name="e">What the operation threw.</param>
    /// <param name="us">How long the operation ran before it failed.</param>
    public void Error(Exception e, long us)
    {
        Errors++;
        string kind = e is Kv.Client.KvException kv ? $"{e.GetType().Name}({kv.Code})"
            : e is Grpc.Core.RpcException rpc ? $"RpcException({rpc.StatusCode})"
            : e.GetType().Name;
        if (e.Data[TransferWorkload.PhaseKey] is string phase) kind += $" in {phase}";
        ErrorKinds[kind] = ErrorKinds.TryGetValue(kind, out var seen)
            ? (seen.Count + 1, seen.FirstMessage, seen.TotalUs + us, Math.Max(seen.MaxUs, us))
            : (1, e.Message, us, us);
    }
}
