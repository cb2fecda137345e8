using Kv.Txn.Coordination;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// A fail point that stops a coordinator at one step, as a crash there would: it signals the test and throws, so
/// that the coordinator sends nothing more (the test then crashes the node too).
/// </summary>
internal sealed class StopAtStep(TxnStep at) : ITxnFailPoints
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Reached => _reached.Task;

    public ValueTask ReachedAsync(TxnStep step, CancellationToken cancellationToken)
    {
        if (step != at) return default;
        _reached.TrySetResult();
        throw new TxnCoordinatorStoppedException(step);
    }
}
