using System.Diagnostics;
using Grpc.Core;

namespace Kv.IdleRanges;

/// <summary>Counts finished splits and retries across workers; prints a progress line to stderr now and then.</summary>
internal sealed class SplitProgress(int total)
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(2);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private TimeSpan _lastReport;
    private int _done;
    private int _retries;

    public int Done => Volatile.Read(ref _done);

    public int Retries => Volatile.Read(ref _retries);

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Completed()
    {
        Interlocked.Increment(ref _done);
        Report(force: false);
    }

    public void Retried(string key, RpcException e)
    {
        Interlocked.Increment(ref _retries);
        Console.Error.WriteLine($"  retrying split at {key}: {e.Status.StatusCode} {e.Status.Detail}");
    }

    public void Report(bool force)
    {
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (!force && now - _lastReport < ReportInterval) return;
            _lastReport = now;
            int done = Done;
            Console.Error.WriteLine($"  splits {done}/{total} ({done / Math.Max(now.TotalSeconds, 0.001):F0}/s, {now.TotalSeconds:F0} s, {Retries} retries)");
        }
    }
}
