using Grpc.Core;

namespace Kv.Client;

/// <summary>
/// The timeout of one attempt, as the <see cref="CallOptions"/> of its call. A call whose caller cannot cancel it
/// gets a shared deadline token: every attempt that starts within the same slot (1/64 of the timeout) shares one
/// <see cref="CancellationTokenSource"/>, cancelled at the slot's end plus the timeout, so an attempt is cancelled
/// between <see cref="Timeout"/> and <see cref="Timeout"/> × 65/64 after it starts, and the client runs one timer per
/// slot. Otherwise (the caller's token can cancel, or the attempt sets its own deadline) it is a gRPC deadline.
/// </summary>
/// <remarks>
/// Why: a gRPC deadline starts a timer per call in the client (<see cref="Timer"/> objects and the timer queue's
/// lock), formats a <c>grpc-timeout</c> header, and makes the server start a timer of its own; together they cost
/// about 5–8 % of a loopback Get's latency (bench/results/client-overhead.md, raw+deadline). The server still learns
/// of an attempt given up: cancelling the token resets the HTTP/2 stream, which cancels the call there.
/// </remarks>
internal sealed class AttemptTimeout
{
    private const int SlotsPerTimeout = 64;

    /// <summary>Longer timeouts are gRPC deadlines: a token source's delay is limited to about 24 days, and a timer per call is nothing next to a day.</summary>
    private static readonly TimeSpan SharedTimeoutMax = TimeSpan.FromDays(1);

    private readonly TimeProvider _time;
    private readonly long _slotTicks;
    private Slot? _current;

    public AttemptTimeout(TimeSpan timeout, TimeProvider time)
    {
        Timeout = timeout;
        _time = time;
        _slotTicks = Math.Max(1, (long)(timeout.TotalSeconds * time.TimestampFrequency / SlotsPerTimeout));
    }

    /// <summary>How long an attempt may take.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// The options of an attempt starting now under <paramref name="cancellationToken"/>: a shared deadline token when
    /// <paramref name="mayShare"/> and the token cannot cancel, else a gRPC deadline and the token.
    /// </summary>
    public CallOptions Options(bool mayShare, CancellationToken cancellationToken) =>
        mayShare && !cancellationToken.CanBeCanceled && Timeout <= SharedTimeoutMax
            ? new CallOptions(cancellationToken: SharedToken())
            : new CallOptions(deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellationToken);

    /// <summary>The token of the current slot, cancelled at least <see cref="Timeout"/> from now.</summary>
    internal CancellationToken SharedToken()
    {
        long now = _time.GetTimestamp();
        var slot = Volatile.Read(ref _current);
        if (slot is not null && now < slot.StartsBefore) return slot.Token;
        // The slot is over (or there is none): open the next. Its token is cancelled Timeout after the slot's end.
        var fresh = new Slot(now + _slotTicks, new CancellationTokenSource(Timeout + _time.GetElapsedTime(now, now + _slotTicks), _time));
        var raced = Interlocked.CompareExchange(ref _current, fresh, slot);
        if (raced == slot) return fresh.Token;
        fresh.Source.Dispose(); // another caller opened it first
        return raced!.Token;
    }

    /// <param name="StartsBefore">Attempts starting before this timestamp share <paramref name="Source"/>.</param>
    /// <param name="Source">Cancelled at StartsBefore + the timeout; never disposed while attempts may hold its token (its timer frees it).</param>
    private sealed record Slot(long StartsBefore, CancellationTokenSource Source)
    {
        public CancellationToken Token { get; } = Source.Token;
    }
}
