using RocksDbSharp;

namespace Kv.Storage.GroupCommit;

/// <summary>
/// One writer's contribution waiting in the queue. It is taken by the commit loop or cancelled by its writer,
/// never both: whoever moves it out of <see cref="Queued"/> first decides, so a cancelled write is known not to
/// have been written and a taken one is answered only by the outcome of its sync.
/// </summary>
internal abstract class PendingWrite
{
    private const int Queued = 0, Taken = 1, Cancelled = 2;

    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _registration;
    private int _state = Queued;

    public Task Completion => _completion.Task;

    /// <summary>Adds this writer's operations to the shared batch; runs on the commit loop.</summary>
    public abstract void Fill(WriteBatch batch);

    /// <summary>Lets <paramref name="cancellationToken"/> cancel the write until the loop takes it; call before enqueueing.</summary>
    public void CancelWhileQueued(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return;
        _registration = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var write = (PendingWrite)state!;
            if (Interlocked.CompareExchange(ref write._state, Cancelled, Queued) == Queued)
                write._completion.TrySetCanceled(token);
        }, this);
    }

    /// <summary>Claims the write for the commit loop; false if its writer cancelled it first.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

    /// <summary>The write never reached the queue; drops the cancellation registration.</summary>
    public void Abandon() => _registration.Unregister();

    public void Succeed()
    {
        _registration.Unregister();
        _completion.TrySetResult();
    }

    public void Fail(Exception exception)
    {
        _registration.Unregister();
        _completion.TrySetException(exception);
    }
}

/// <summary>A pending write whose fill callback takes a state, so callers need not allocate a closure.</summary>
internal sealed class PendingWrite<TState>(TState state, Action<WriteBatch, TState> fill) : PendingWrite
{
    public override void Fill(WriteBatch batch) => fill(batch, state);
}
