using System.Diagnostics;
using Kv.Storage.Encoding;

namespace Kv.Server.Clock;

/// <summary>Persisting the upper bound: one write in flight at a time, with strictly increasing targets.</summary>
public sealed partial class HybridLogicalClock
{
    /// <summary>
    /// Persists a bound <see cref="HybridLogicalClockOptions.PersistAheadNanos"/> ahead of now (or of the last
    /// timestamp, if that leads). Hosts call it at start-up, so that the first requests after a restart do not wait,
    /// and may call it on a timer, so that requests after an idle period do not wait either.
    /// </summary>
    public async ValueTask PersistBoundAsync(CancellationToken cancellationToken = default)
    {
        Timestamp wanted;
        lock (_gate) wanted = BoundAfter(Math.Max(_physical.NowNanos(), _last.WallNanos));
        while (true)
        {
            Task wait;
            BoundWrite? toStart = null;
            lock (_gate)
            {
                if (_durableBound >= wanted) return;
                if (_inFlight is null) toStart = BeginWriteLocked(wanted);
                wait = _inFlight!.Done.Task;
            }
            if (toStart is not null) _ = WriteBoundAsync(toStart);
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private BoundWrite BeginWriteLocked(Timestamp target)
    {
        Debug.Assert(_inFlight is null, "One bound write at a time.");
        Debug.Assert(target > _durableBound, "Bounds strictly increase.");
        _inFlight = new BoundWrite(target);
        return _inFlight;
    }

    /// <summary>Runs the host's persist callback; never throws (failures go to the waiters).</summary>
    private async Task WriteBoundAsync(BoundWrite write)
    {
        try
        {
            await _persistBound(write.Target).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any failure of the host's write is handed to the callers that wait for the bound.
        catch (Exception e)
#pragma warning restore CA1031
        {
            lock (_gate) _inFlight = null;
            write.Done.SetException(e);
            return;
        }
        lock (_gate)
        {
            // Publish before waking the waiters, so that their retry sees the new bound.
            _durableBound = write.Target;
            _inFlight = null;
        }
        write.Done.SetResult();
    }

    /// <summary>One call of the persist callback and the callers waiting for it.</summary>
    private sealed class BoundWrite(Timestamp target)
    {
        public Timestamp Target { get; } = target;

        // Continuations run asynchronously so that a waiter never runs inside the host's write completion.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
