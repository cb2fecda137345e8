using System.Diagnostics;
using Kv.Client;

namespace Kv.Load;

/// <summary>
/// The client's view of in-doubt transactions during a timeline run. When a commit fails after it was sent (its
/// coordinator died: outcome unknown), its keys may stay locked; so may the keys of transactions answered
/// "committed" just before, whose publish the dead coordinator had not finished (2PC: the decision is on its disk
/// only). Each such transaction's keys are read with plain linearizable gets, again and again, until each answers:
/// a get of a key holding a staged version waits until the transaction is finished (by its coordinator, or by a
/// recovery), so the answer time is when the key became usable again. Beside each key, a control key of the same
/// range that no transaction writes (the key + <c>"/control"</c>, absent) is read the same way: it answers as soon as
/// the range has a leader again, so the difference is the time the key stayed blocked by its lock alone, apart from
/// the election that a dead leader costs.
/// </summary>
internal sealed class InDoubtTracker : IAsyncDisposable
{
    /// <summary>Transactions answered within this long before a failed commit are probed too (their publish may be pending).</summary>
    private static readonly TimeSpan RecentWindow = TimeSpan.FromSeconds(1);

    /// <summary>A bound on the transactions kept for that: more than a second of commits at this machine's rates.</summary>
    private const int RecentMax = 4096;

    private readonly KvClient _probe;
    private readonly long _origin;
    private readonly CancellationToken _stop;
    private readonly object _gate = new();
    private readonly Queue<(long At, byte[][] Keys)> _recent = new();
    private readonly List<Entry> _entries = [];
    private readonly List<Task> _probes = [];
    private readonly Dictionary<string, (long Count, long TotalUs, string FirstMessage)> _probeFailures = new(StringComparer.Ordinal);

    /// <param name="endpoints">The cluster.</param>
    /// <param name="origin">The run's start (Stopwatch timestamp): times are reported relative to it.</param>
    /// <param name="stop">Ends the probes (the run is over).</param>
    public InDoubtTracker(IReadOnlyList<string> endpoints, long origin, CancellationToken stop)
    {
        _origin = origin;
        _stop = stop;
        _probe = new KvClient(endpoints, new KvClientOptions
        {
            PerCallTimeout = TimeSpan.FromSeconds(1),
            OverallDeadline = TimeSpan.FromSeconds(2),
        });
    }

    /// <summary>Whether the transaction's commit failed (in doubt) or it was answered committed just before a failure.</summary>
    public enum Kind
    {
        CommitFailed,
        AnsweredBeforeFailure,
    }

    /// <summary>One probed transaction: when it was taken up, and when the last of its keys answered (null: not by the end).</summary>
    public sealed class Entry(Kind kind, double sinceStartS, int keys)
    {
        private int _blockedKeys = keys;

        public Kind Kind { get; } = kind;

        /// <summary>When its commit failed (or, for an answered one, when the failure that brought it up happened), s since the run's start.</summary>
        public double SinceStartS { get; } = sinceStartS;

        /// <summary>When the last of its keys answered (null: not by the end of the run).</summary>
        public double? UsableAtS { get; internal set; }

        /// <summary>When the last of the control keys answered: every range involved had a leader (null: not by the end).</summary>
        public double? AvailableAtS { get; internal set; }

        /// <summary>The longest a key answered after its range's control key did: the wait for the lock alone.</summary>
        public double? LockWaitS { get; internal set; }

        public int BlockedKeys => Volatile.Read(ref _blockedKeys);

        internal void KeyUsable() => Interlocked.Decrement(ref _blockedKeys);
    }

    public void Committed(byte[][] keys)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _recent.Enqueue((now, keys));
            long oldest = now - (long)(RecentWindow.TotalSeconds * Stopwatch.Frequency);
            while (_recent.Count > 0 && (_recent.Peek().At < oldest || _recent.Count > RecentMax)) _recent.Dequeue();
        }
    }

    public void CommitFailed(byte[][] keys)
    {
        double at = Stopwatch.GetElapsedTime(_origin).TotalSeconds;
        lock (_gate)
        {
            Track(new Entry(Kind.CommitFailed, at, keys.Length), keys);
            long oldest = Stopwatch.GetTimestamp() - (long)(RecentWindow.TotalSeconds * Stopwatch.Frequency);
            while (_recent.TryDequeue(out var recent))
            {
                if (recent.At >= oldest) Track(new Entry(Kind.AnsweredBeforeFailure, at, recent.Keys.Length), recent.Keys);
            }
        }
    }

    /// <summary>Every probed transaction so far.</summary>
    public IReadOnlyList<Entry> Entries
    {
        get
        {
            lock (_gate) return _entries.ToArray();
        }
    }

    /// <summary>The probes' failed reads by exception kind: how many, how long they took on average (µs), the first one's message.</summary>
    public IReadOnlyDictionary<string, (long Count, long MeanUs, string FirstMessage)> ProbeFailures
    {
        get
        {
            lock (_gate)
                return _probeFailures.ToDictionary(f => f.Key, f => (f.Value.Count, f.Value.TotalUs / f.Value.Count, f.Value.FirstMessage), StringComparer.Ordinal);
        }
    }

    /// <summary>Transactions with a key not yet usable, by kind; and those keys.</summary>
    public (int Failed, int Answered, int Keys) Blocked()
    {
        int failed = 0, answered = 0, keys = 0;
        foreach (var e in Entries)
        {
            int blocked = e.BlockedKeys;
            if (blocked == 0) continue;
            keys += blocked;
            if (e.Kind == Kind.CommitFailed) failed++;
            else answered++;
        }
        return (failed, answered, keys);
    }

    private void Track(Entry entry, byte[][] keys)
    {
        _entries.Add(entry);
        _probes.Add(ProbeAsync(entry, keys));
    }

    private async Task ProbeAsync(Entry entry, byte[][] keys)
    {
        var probes = keys.Select(key => (Key: ReadUntilAnsweredAsync(key, entry.KeyUsable), Control: ReadUntilAnsweredAsync([.. key, .. ControlSuffix], null))).ToArray();
        var usable = await Task.WhenAll(probes.Select(p => p.Key)).ConfigureAwait(false);
        var available = await Task.WhenAll(probes.Select(p => p.Control)).ConfigureAwait(false);
        if (!usable.Any(double.IsNaN)) entry.UsableAtS = usable.Max();
        if (!available.Any(double.IsNaN)) entry.AvailableAtS = available.Max();
        var waits = usable.Zip(available, (u, a) => Math.Max(0, u - a)).ToArray();
        if (!waits.Any(double.IsNaN)) entry.LockWaitS = waits.Max();
    }

    private static readonly byte[] ControlSuffix = "/control"u8.ToArray();

    /// <summary>Reads <paramref name="key"/> until it answers; returns when (s since the run's start), or NaN if the run ended first.</summary>
    private async Task<double> ReadUntilAnsweredAsync(byte[] key, Action? answered)
    {
        while (!_stop.IsCancellationRequested)
        {
            long began = Stopwatch.GetTimestamp();
            try
            {
                await _probe.GetAsync(key, _stop).ConfigureAwait(false);
                answered?.Invoke();
                return Stopwatch.GetElapsedTime(_origin).TotalSeconds;
            }
            catch (Exception e) when (e is KvException or OperationCanceledException)
            {
                if (_stop.IsCancellationRequested) break;
                string kind = e is KvException kv ? $"{e.GetType().Name}({kv.Code})" : e.GetType().Name;
                long us = (long)Stopwatch.GetElapsedTime(began).TotalMicroseconds;
                lock (_gate)
                {
                    _probeFailures[kind] = _probeFailures.TryGetValue(kind, out var seen)
                        ? (seen.Count + 1, seen.TotalUs + us, seen.FirstMessage)
                        : (1, us, e.Message);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None).ConfigureAwait(false);
            }
        }
        return double.NaN;
    }

    public async ValueTask DisposeAsync()
    {
        Task[] probes;
        lock (_gate) probes = _probes.ToArray();
        await Task.WhenAll(probes).ConfigureAwait(false);
        await _probe.DisposeAsync().ConfigureAwait(false);
    }
}
