using Kv.Storage.Encoding;

namespace Kv.Server.Tests.Clock;

/// <summary>
/// Stands in for the meta store that keeps the clock's upper bound. A write becomes durable when its task completes;
/// with <see cref="Hold"/> set, writes wait until the test releases them, as a slow disk would.
/// </summary>
internal sealed class BoundStore
{
    private readonly Lock _gate = new();
    private readonly List<Timestamp> _written = [];
    private TaskCompletionSource? _release;

    public Timestamp Durable { get; private set; } = Timestamp.Zero;

    public int WriteCount
    {
        get { lock (_gate) return _written.Count; }
    }

    public IReadOnlyList<Timestamp> Written
    {
        get { lock (_gate) return [.. _written]; }
    }

    /// <summary>Makes later writes wait for <see cref="Release"/>.</summary>
    public void Hold()
    {
        lock (_gate) _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Lets held writes (and later ones) complete.</summary>
    public void Release()
    {
        TaskCompletionSource? release;
        lock (_gate) (release, _release) = (_release, null);
        release?.SetResult();
    }

    public async ValueTask PersistAsync(Timestamp bound)
    {
        Task? wait;
        lock (_gate)
        {
            _written.Add(bound);
            wait = _release?.Task;
        }
        if (wait is not null) await wait;
        lock (_gate)
        {
            if (bound > Durable) Durable = bound;
        }
    }
}
