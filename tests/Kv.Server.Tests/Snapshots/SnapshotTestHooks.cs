using Kv.Server.Snapshots;

namespace Kv.Server.Tests.Snapshots;

/// <summary>A fail point that holds a snapshot's coordinator at one step until released (or stops it there, as a crash would).</summary>
internal sealed class HoldAtStep(SnapshotStep at, bool stop = false) : ISnapshotFailPoints
{
    private readonly TaskCompletionSource<string> _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the snapshot id when the coordinator reaches the step.</summary>
    public Task<string> Reached => _reached.Task;

    public void Release() => _release.TrySetResult();

    public async ValueTask ReachedAsync(SnapshotStep step, string snapshotId, CancellationToken cancellationToken)
    {
        if (step != at) return;
        _reached.TrySetResult(snapshotId);
        if (stop) throw new SnapshotCoordinatorStoppedException(step);
        await _release.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }
}
