using Google.Protobuf;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

// Pessimistic (locking) reads, the cure for starvation (KvTransactionOptions.LockReadsAfterConflicts): every read first
// locks its key (or span) through the range's log and returns the newest version, so the commit cannot fail validation.
// The attempt's record lives at its first locked key (the home key); while it holds locks this client is its
// coordinator and heartbeats it, so that a recovery never aborts a live transaction, and a dead client's locks are
// released by recovery once its heartbeats stop.
public sealed partial class KvTransaction
{
    // The home key of a transaction whose first lock is a scan from the beginning of the key space.
    private static readonly ByteString LowestKey = ByteString.CopyFrom(0);

    private readonly bool _lockReads;
    private readonly List<ByteString> _lockedKeys = [];
    private readonly List<Wire.TxnSpanRead> _lockedSpans = [];
    private readonly List<ByteString> _lockedSinceHeartbeat = [];
    private readonly HashSet<ByteString> _intents = [];
    private Wire.TxnLockSpec? _lockSpec;
    private CancellationTokenSource? _heartbeatStop;
    private Task _heartbeats = Task.CompletedTask;
    private volatile bool _abortedWhileRunning;

    /// <summary>
    /// The lock for a read (null when this attempt does not lock). The first one creates the transaction's record at
    /// <paramref name="homeKey"/> (a heartbeat, before anything is locked) and starts the heartbeats.
    /// </summary>
    private async Task<Wire.TxnLockSpec?> LockSpecForAsync(ByteString homeKey, CancellationToken cancellationToken)
    {
        if (!_lockReads) return null;
        ThrowIfAbortedWhileRunning();
        if (_lockSpec is { } spec) return spec;
        spec = new Wire.TxnLockSpec { TxnId = _txnId, HomeKey = homeKey, Priority = Priority != 0 ? Priority : _readTimestamp.WallNanos };
        var first = await WithAttemptTimeoutAsync("Heartbeat",
            ct => _client.TxnHeartbeatAsync(new Wire.TxnHeartbeatRequest { TxnId = spec.TxnId, HomeKey = spec.HomeKey }, ct), cancellationToken)
            .ConfigureAwait(false);
        if (first.Aborted) throw AbortedWhileRunning();
        lock (_gate)
        {
            ThrowIfNotActive();
            _lockSpec = spec;
            _heartbeatStop = new CancellationTokenSource();
            _heartbeats = HeartbeatAsync(spec, Interval(first), _heartbeatStop.Token);
        }
        return spec;
    }

    /// <summary>
    /// A locking attempt's write intent on a key it will write (once per key): an exclusive lock, so that no younger
    /// transaction's lock can refuse its commit there. The read that comes with it is not recorded (a blind write stays blind).
    /// </summary>
    /// <remarks>Then buffers the write (<paramref name="value"/> null: a delete).</remarks>
    private async Task WriteWithIntentAsync(ByteString key, ByteString? value, CancellationToken cancellationToken)
    {
        bool held;
        lock (_gate) held = _intents.Contains(key);
        if (!held) await LockForWriteAsync(key, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            ThrowIfNotActive();
            if (value is null) _buffer.Delete(key);
            else _buffer.Put(key, value);
        }
    }

    private async Task LockForWriteAsync(ByteString key, CancellationToken cancellationToken)
    {
        var request = new Wire.TxnReadRequest
        {
            Key = key, ReadTimestamp = _readTimestamp, LockForWrite = true, Lock = await LockSpecForAsync(key, cancellationToken).ConfigureAwait(false),
        };
        await WithAttemptTimeoutAsync("Put", ct => _client.TxnReadAsync(request, ct), cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            ThrowIfNotActive();
            _intents.Add(key);
            NoteLocked(key);
        }
    }

    /// <summary>Remembers a locked key: for the next heartbeat (a recovery then releases it at once) and for a rollback.</summary>
    private void NoteLocked(ByteString key)
    {
        _lockedKeys.Add(key);
        _lockedSinceHeartbeat.Add(key);
    }

    /// <summary>Remembers a scanned span locked page by page, and a key in the range each page locked.</summary>
    private void NoteLockedSpan(Wire.TxnScanRequest page, Wire.TxnScanResponse response, ByteString start, ByteString end)
    {
        if (!_lockedSpans.Any(s => s.StartKey.Equals(start) && s.EndKey.Equals(end))) _lockedSpans.Add(new Wire.TxnSpanRead { StartKey = start, EndKey = end });
        var inRange = page.Reverse ? response.Entries.FirstOrDefault()?.Key : page.StartKey;
        if (inRange is not null) NoteLocked(inRange);
    }

    private async Task HeartbeatAsync(Wire.TxnLockSpec spec, TimeSpan interval, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, stop).ConfigureAwait(false);
                var request = new Wire.TxnHeartbeatRequest { TxnId = spec.TxnId, HomeKey = spec.HomeKey };
                lock (_gate)
                {
                    request.Keys.AddRange(_lockedSinceHeartbeat);
                    _lockedSinceHeartbeat.Clear();
                }
                try
                {
                    var answer = await _client.TxnHeartbeatAsync(request, stop).ConfigureAwait(false);
                    if (answer.Aborted)
                    {
                        _abortedWhileRunning = true;
                        return;
                    }
                    interval = Interval(answer);
                }
                catch (KvException) when (!stop.IsCancellationRequested)
                {
                    // Late, not lost: the keys go with the next one. Heartbeats late beyond the recovery delay let a
                    // recovery abort the transaction, which its commit then learns.
                    lock (_gate) _lockedSinceHeartbeat.InsertRange(0, request.Keys);
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopped: the attempt committed, failed or was rolled back.
        }
    }

    private static TimeSpan Interval(Wire.TxnHeartbeatResponse answer) =>
        TimeSpan.FromMilliseconds(answer.IntervalMs > 0 ? answer.IntervalMs : 250);

    private async Task StopHeartbeatsAsync()
    {
        CancellationTokenSource? stop;
        lock (_gate)
        {
            stop = _heartbeatStop;
            _heartbeatStop = null;
        }
        if (stop is null) return;
        await stop.CancelAsync().ConfigureAwait(false);
        await _heartbeats.ConfigureAwait(false);
        stop.Dispose();
    }

    /// <summary>An attempt that read with locks and will not commit gives them up now (best effort: else recovery does, once its heartbeats stop).</summary>
    private async Task ReleaseLocksAsync()
    {
        await StopHeartbeatsAsync().ConfigureAwait(false);
        if (_lockSpec is not { } spec) return;
        var request = new Wire.TxnRollbackRequest { TxnId = spec.TxnId, HomeKey = spec.HomeKey };
        request.Keys.AddRange(_lockedKeys.Distinct());
        request.SpanReads.AddRange(_lockedSpans);
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _client.TxnRollbackAsync(request, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KvException or OperationCanceledException)
        {
            // Recovery releases them once the heartbeats have stopped for the recovery delay.
        }
    }

    private void ThrowIfAbortedWhileRunning()
    {
        if (_abortedWhileRunning) throw AbortedWhileRunning();
    }

    private KvTransactionConflictException AbortedWhileRunning()
    {
        _abortedWhileRunning = true;
        return Conflict = new KvTransactionConflictException(
            "the transaction was aborted while it ran (an older transaction needed a key it had locked, or its heartbeats came too late)");
    }
}
