using Kv.Storage.Encoding;

namespace Kv.Server.Clock;

/// <summary>
/// A hybrid logical clock (Kulkarni et al., 2014): timestamps that follow the physical clock, never go backwards,
/// and order every event a node sees after every event it has heard of. Thread-safe: one small lock guards the
/// state; the physical clock is read inside it so that the issued order matches the reading order.
/// <para>
/// <b>Issuing.</b> <see cref="NowAsync"/> returns a timestamp above every one this clock issued before, even if the
/// physical clock jumped backwards (then the logical counter advances instead). <see cref="UpdateAsync"/> (the
/// receive rule) returns a timestamp above both the local clock and the remote timestamp, and rejects a remote
/// timestamp that leads the physical clock by more than <see cref="HybridLogicalClockOptions.ForwardJumpNanosMax"/>.
/// </para>
/// <para>
/// <b>The durable bound rule.</b> Let D be the highest bound for which the persist callback has completed. The clock
/// issues a timestamp t only if t ≤ D. If the next timestamp would exceed D, the caller waits while the bound
/// max(physical, t.WallNanos) + <see cref="HybridLogicalClockOptions.PersistAheadNanos"/> is persisted, and then
/// retries. So that this stays off the common path, once the clock comes within half of PersistAheadNanos of D it
/// starts persisting the next bound in the background. After a crash the host reads the last bound it persisted
/// (anything the callback completed for, or later) and passes it as the floor: every timestamp issued before the
/// crash is ≤ the floor, and every timestamp issued after is above it — even if the machine restarts with its wall
/// clock behind. The first timestamp after a restart waits for a new bound (call <see cref="PersistBoundAsync"/>
/// at start-up to take that wait before serving).
/// </para>
/// <para>
/// <b>The persist callback</b> is called at most once at a time, with strictly increasing bounds; it must make its
/// argument durable before its task completes, and must not call this clock (it would wait on itself). If it
/// throws, the callers waiting for that bound get the exception and the next caller that needs a bound retries.
/// </para>
/// </summary>
public sealed partial class HybridLogicalClock
{
    private readonly IPhysicalClock _physical;
    private readonly HybridLogicalClockOptions _options;
    private readonly Func<Timestamp, ValueTask> _persistBound;
    private readonly Lock _gate = new();

    // Guarded by _gate.
    private Timestamp _last;
    private Timestamp _durableBound;
    private BoundWrite? _inFlight;

    /// <summary>Creates a clock that issues only timestamps above <paramref name="floor"/>.</summary>
    /// <param name="physical">The wall clock to follow.</param>
    /// <param name="floor">
    /// The last bound persisted before this start (<see cref="Timestamp.Zero"/> on a node's first start).
    /// </param>
    /// <param name="options">Limits; validated here.</param>
    /// <param name="persistBound">Makes a new upper bound durable (see the type's remarks).</param>
    public HybridLogicalClock(
        IPhysicalClock physical, Timestamp floor, HybridLogicalClockOptions options, Func<Timestamp, ValueTask> persistBound)
    {
        ArgumentNullException.ThrowIfNull(physical);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(persistBound);
        options.Validate();
        if (floor.WallNanos < 0 || floor.Logical < 0 || floor.WallNanos == long.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(floor), floor, "A floor is a real timestamp: non-negative and below the maximum.");
        _physical = physical;
        _options = options;
        _persistBound = persistBound;
        _last = floor;
        _durableBound = floor;
    }

    /// <summary>The highest timestamp issued so far (the floor before the first).</summary>
    public Timestamp Last
    {
        get { lock (_gate) return _last; }
    }

    /// <summary>The highest bound known durable: no timestamp above it has been issued.</summary>
    public Timestamp DurableBound
    {
        get { lock (_gate) return _durableBound; }
    }

    /// <summary>
    /// A timestamp above every one issued before. Completes synchronously unless the durable bound must be extended
    /// first.
    /// </summary>
    public ValueTask<Timestamp> NowAsync(CancellationToken cancellationToken = default) => Issue(remote: null, cancellationToken);

    /// <summary>
    /// The receive rule: a timestamp above both every one issued before and <paramref name="remote"/>. Faults with
    /// <see cref="ClockForwardJumpException"/> (and leaves the clock unchanged) if <paramref name="remote"/> leads
    /// the physical clock by more than <see cref="HybridLogicalClockOptions.ForwardJumpNanosMax"/>.
    /// </summary>
    public ValueTask<Timestamp> UpdateAsync(Timestamp remote, CancellationToken cancellationToken = default) =>
        Issue(remote, cancellationToken);

    private ValueTask<Timestamp> Issue(Timestamp? remote, CancellationToken cancellationToken)
    {
        Attempt attempt;
        try
        {
            lock (_gate) attempt = TryIssueLocked(remote);
        }
        catch (ClockForwardJumpException e)
        {
            return ValueTask.FromException<Timestamp>(e);
        }
        if (attempt.ToStart is not null) _ = WriteBoundAsync(attempt.ToStart);
        return attempt.Wait is null
            ? ValueTask.FromResult(attempt.Issued)
            : IssueAfterWaitAsync(remote, attempt.Wait, cancellationToken);
    }

    private async ValueTask<Timestamp> IssueAfterWaitAsync(Timestamp? remote, Task wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            Attempt attempt;
            lock (_gate) attempt = TryIssueLocked(remote);
            if (attempt.ToStart is not null) _ = WriteBoundAsync(attempt.ToStart);
            if (attempt.Wait is null) return attempt.Issued;
            // The bound written meanwhile was too low for us (time moved on, or a remote timestamp leads it).
            wait = attempt.Wait;
        }
    }

    /// <summary>
    /// Computes the next timestamp and issues it if the durable bound covers it; otherwise returns the write to
    /// wait for. Also says which bound write to start (outside the lock, since it calls out to the host).
    /// </summary>
    private Attempt TryIssueLocked(Timestamp? remote)
    {
        long physicalNanos = _physical.NowNanos();
        if (remote is { } r && (Int128)r.WallNanos - physicalNanos > _options.ForwardJumpNanosMax)
            throw new ClockForwardJumpException(r, physicalNanos, _options.ForwardJumpNanosMax);

        Timestamp basis = remote is { } seen && seen > _last ? seen : _last;
        Timestamp next = physicalNanos > basis.WallNanos ? new Timestamp(physicalNanos, 0) : Successor(basis);
        long wallNanos = Math.Max(physicalNanos, next.WallNanos);

        if (next > _durableBound)
        {
            BoundWrite? toStart = _inFlight is null ? BeginWriteLocked(BoundAfter(wallNanos)) : null;
            return new Attempt(default, _inFlight!.Done.Task, toStart);
        }

        _last = next;
        bool nearBound = _durableBound.WallNanos - wallNanos < _options.PersistAheadNanos / 2;
        BoundWrite? renewal = nearBound && _inFlight is null ? BeginWriteLocked(BoundAfter(wallNanos)) : null;
        return new Attempt(next, null, renewal);
    }

    private Timestamp BoundAfter(long wallNanos) => new(checked(wallNanos + _options.PersistAheadNanos), 0);

    /// <summary>The least timestamp above <paramref name="t"/>; the logical counter carries into the wall time.</summary>
    private static Timestamp Successor(Timestamp t) =>
        t.Logical == int.MaxValue ? new Timestamp(checked(t.WallNanos + 1), 0) : new Timestamp(t.WallNanos, t.Logical + 1);

    /// <summary>Either an issued timestamp (Wait null) or the bound write to wait for; plus a write to start.</summary>
    private readonly record struct Attempt(Timestamp Issued, Task? Wait, BoundWrite? ToStart);
}
