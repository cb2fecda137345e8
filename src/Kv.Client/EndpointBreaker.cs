using Polly.CircuitBreaker;

namespace Kv.Client;

/// <summary>
/// One endpoint's circuit breaker over connection-level failures (no answer from a server): it opens for
/// <see cref="KvClientOptions.CircuitBreakerBreakDuration"/> when <see cref="KvClientOptions.CircuitBreakerConsecutiveFailures"/>
/// attempts in a row failed (a dead node: <see cref="CircuitState.Isolated"/>), or when such failures make up
/// <see cref="KvClientOptions.CircuitBreakerFailureRatio"/> of at least <see cref="KvClientOptions.CircuitBreakerMinimumThroughput"/>
/// attempts within <see cref="KvClientOptions.CircuitBreakerSamplingDuration"/> (a flaky node: <see cref="CircuitState.Open"/>).
/// After a break one attempt probes it; any answer closes it, a failure opens it for another break.
/// </summary>
/// <remarks>
/// The states and rules are Polly's circuit breaker's (whose <see cref="CircuitState"/> it reports), kept here
/// because every attempt reports to its endpoint's breaker: Polly's takes its lock several times per outcome, and
/// with 16 callers on one endpoint those locks and its pipeline cost more than the rest of the client
/// (bench/results/client-overhead.md). Here an answer while closed, the common case, is one timestamp read and one
/// interlocked increment; transitions, rare, take a lock.
/// </remarks>
internal sealed class EndpointBreaker
{
    private readonly KvClientOptions _options;
    private readonly Lock _gate = new();
    private readonly OutcomeWindow _window;
    private readonly long _breakTicks;
    private volatile CircuitState _state = CircuitState.Closed;
    private long _openUntil;
    private int _consecutiveFailures;
    private long _leaderProbeDue;

    public EndpointBreaker(KvClientOptions options)
    {
        _options = options;
        _window = new OutcomeWindow(ToTicks(options.CircuitBreakerSamplingDuration));
        _breakTicks = ToTicks(options.CircuitBreakerBreakDuration);
    }

    /// <summary>Closed, open (by the failure ratio), half-open (a probe is in flight) or isolated (by consecutive failures).</summary>
    public CircuitState State => _state;

    /// <summary>Connection-level failures since the last answer.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    private long Now => _options.TimeProvider.GetTimestamp();

    private long ToTicks(TimeSpan duration) => (long)(duration.TotalSeconds * _options.TimeProvider.TimestampFrequency);

    /// <summary>
    /// Whether routing skips the endpoint now: open within its break, or a probe in flight. When a break is over, the
    /// caller that claims the probe (<paramref name="claimProbe"/>) is let through and the others keep skipping it
    /// until the probe's outcome is known.
    /// </summary>
    public bool Skipped(bool claimProbe)
    {
        var state = _state;
        if (state == CircuitState.Closed) return false;
        if (state == CircuitState.HalfOpen) return true;
        long until = Interlocked.Read(ref _openUntil), now = Now;
        if (now < until) return true;
        if (!claimProbe) return false;
        lock (_gate)
        {
            if (_state != state || Interlocked.Read(ref _openUntil) != until) return true; // another caller took the probe
            if (state == CircuitState.Open) _state = CircuitState.HalfOpen;
            else Interlocked.Exchange(ref _openUntil, now + _breakTicks); // isolated: the probe runs outside, the break goes on
            return false;
        }
    }

    /// <summary>Claims the once-a-second attempt at a named leader whose breaker is open.</summary>
    public bool ClaimLeaderProbe()
    {
        long now = Now, due = Interlocked.Read(ref _leaderProbeDue);
        return now >= due && Interlocked.CompareExchange(ref _leaderProbeDue, now + _options.TimeProvider.TimestampFrequency, due) == due;
    }

    /// <summary>The node answered (a result or an error status): it is up. Closes the breaker if it is not closed.</summary>
    public void Answered()
    {
        _window.Success(Now);
        if (Volatile.Read(ref _consecutiveFailures) != 0) Volatile.Write(ref _consecutiveFailures, 0);
        if (_state == CircuitState.Closed) return;
        lock (_gate)
        {
            _state = CircuitState.Closed;
            _window.Reset();
        }
    }

    /// <summary>A connection-level failure: opens the breaker after enough in a row or too large a share; a failed probe opens it again.</summary>
    public void Failed()
    {
        long now = Now;
        _window.Failure(now);
        int failures = Interlocked.Increment(ref _consecutiveFailures);
        lock (_gate)
        {
            switch (_state)
            {
                case CircuitState.Isolated:
                    Interlocked.Exchange(ref _openUntil, now + _breakTicks); // a probe failed: another break
                    break;
                case CircuitState.HalfOpen:
                    Open(CircuitState.Open, now);
                    break;
                case CircuitState.Closed when _options.CircuitBreakerConsecutiveFailures > 0 && failures >= _options.CircuitBreakerConsecutiveFailures:
                    Open(CircuitState.Isolated, now);
                    break;
                case CircuitState.Closed:
                    var (attempts, failed) = _window.Totals(now);
                    if (attempts >= _options.CircuitBreakerMinimumThroughput && failed >= _options.CircuitBreakerFailureRatio * attempts)
                        Open(CircuitState.Open, now);
                    break;
            }
        }
    }

    private void Open(CircuitState state, long now)
    {
        Interlocked.Exchange(ref _openUntil, now + _breakTicks);
        _state = state;
    }

    /// <summary>
    /// Answers and failures over the sampling duration, in ten buckets of a tenth of it each, counted without locks:
    /// a bucket is replaced when its time is over (a count racing the replacement may be lost: the ratio is a heuristic).
    /// </summary>
    private sealed class OutcomeWindow(long samplingTicks)
    {
        private const int BucketCount = 10;
        private readonly long _bucketTicks = Math.Max(1, samplingTicks / BucketCount);
        private readonly Bucket?[] _buckets = new Bucket?[BucketCount];

        public void Success(long now) => Interlocked.Increment(ref Current(now).Successes);

        public void Failure(long now) => Interlocked.Increment(ref Current(now).Failures);

        /// <summary>Attempts and failures within the sampling duration up to <paramref name="now"/>.</summary>
        public (long Attempts, long Failures) Totals(long now)
        {
            long epoch = now / _bucketTicks, attempts = 0, failures = 0;
            foreach (var b in _buckets)
            {
                if (b is null || b.Epoch <= epoch - BucketCount) continue;
                long f = Volatile.Read(ref b.Failures);
                attempts += Volatile.Read(ref b.Successes) + f;
                failures += f;
            }
            return (attempts, failures);
        }

        public void Reset() => Array.Clear(_buckets);

        private Bucket Current(long now)
        {
            long epoch = now / _bucketTicks;
            ref var slot = ref _buckets[(int)((ulong)epoch % BucketCount)];
            var bucket = Volatile.Read(ref slot);
            if (bucket is not null && bucket.Epoch >= epoch) return bucket;
            var fresh = new Bucket(epoch);
            return Interlocked.CompareExchange(ref slot, fresh, bucket) == bucket ? fresh : Volatile.Read(ref slot)!;
        }

        private sealed class Bucket(long epoch)
        {
            public readonly long Epoch = epoch;
            public long Successes;
            public long Failures;
        }
    }
}
