using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kv.Server.Tests.Telemetry;

/// <summary>
/// An <see cref="ActivityListener"/> that records every ended span of the SDK, the node, ASP.NET Core's hosting and the
/// tests' own source, sampling all of them (what a tracer with an always-on sampler does). Disposing it stops listening,
/// so that the sources have no listener again.
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    /// <summary>The tests' own source, for root spans that group a test's calls into one trace.</summary>
    public const string TestSourceName = "Kv.Server.Tests.Tracing";

    private static readonly string[] Sources =
        [Kv.Client.KvClientTracing.SourceName, Kv.Server.Telemetry.KvTracing.SourceName, "Microsoft.AspNetCore", TestSourceName];

    private readonly ConcurrentQueue<Activity> _ended = new();
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => Sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ended.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The spans ended so far.</summary>
    public Activity[] Ended => [.. _ended];

    /// <summary>The spans of trace <paramref name="traceId"/> ended so far.</summary>
    public Activity[] Trace(ActivityTraceId traceId) => _ended.Where(a => a.TraceId == traceId).ToArray();

    /// <summary>
    /// Waits until the spans ended so far satisfy <paramref name="done"/> or <paramref name="within"/> passes (spans on
    /// other nodes end after the call that caused them returned); returns what was recorded either way.
    /// </summary>
    public async Task<Activity[]> WaitAsync(Func<Activity[], bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var ended = Ended;
            if (done(ended) || DateTime.UtcNow >= deadline) return ended;
            await Task.Delay(20);
        }
    }

    public void Dispose() => _listener.Dispose();
}
