using HdrHistogram;

namespace Kv.Load;

/// <summary>One worker's measured operations: latencies of the successful ones and the failures by kind.</summary>
internal sealed class WorkerResult(LongHistogram histogram)
{
    public LongHistogram Histogram { get; } = histogram;

    public long Errors { get; private set; }

    /// <summary>Failures by kind, with the first message of each kind.</summary>
    public Dictionary<string, (long Count, string FirstMessage)> ErrorKinds { get; } = new(StringComparer.Ordinal);

    public void Error(Exception e)
    {
        Errors++;
        string kind = e is Kv.Client.KvException kv ? $"{e.GetType().Name}({kv.Code})"
            : e is Grpc.Core.RpcException rpc ? $"RpcException({rpc.StatusCode})"
            : e.GetType().Name;
        ErrorKinds[kind] = ErrorKinds.TryGetValue(kind, out var seen) ? (seen.Count + 1, seen.FirstMessage) : (1, e.Message);
    }
}
