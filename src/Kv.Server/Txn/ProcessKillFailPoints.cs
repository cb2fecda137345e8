using Kv.Txn.Coordination;

namespace Kv.Server.Txn;

/// <summary>
/// Testing only (<c>TxnCrashAt</c>): kills this process, as a crash would (no cleanup, no flush), the first time
/// a coordinator here reaches <paramref name="crashAt"/>. Real-process tests use it to stop a coordinator exactly
/// at a step boundary.
/// </summary>
internal sealed class ProcessKillFailPoints(TxnStep crashAt) : ITxnFailPoints
{
    public ValueTask ReachedAsync(TxnStep step, CancellationToken cancellationToken)
    {
        if (step == crashAt)
        {
            Console.Error.WriteLine($"TxnCrashAt: killing the node at {step}");
            Environment.FailFast($"TxnCrashAt {step}");
        }
        return default;
    }
}
