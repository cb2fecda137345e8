using Kv.Server.Peers;
using Kv.Storage.Ranges;

namespace Kv.Server.Tests.Peers;

/// <summary>
/// A node that hosts the given ranges: serves a span of one only if the range covers it. <see cref="Unhost"/> after a
/// number of checks simulates the range leaving the node while a fetch starts.
/// </summary>
internal sealed class HostedRangesSource(params (ulong RangeId, RangeSpan Span)[] hosted) : IRangeDataSource
{
    private int _checks;

    /// <summary>When set, checks after this many report the range as gone.</summary>
    public int? UnhostAfterChecks { get; set; }

    public int Checks => Volatile.Read(ref _checks);

    public RangeDataAvailability Check(ulong rangeId, RangeSpan span, out string reason)
    {
        int check = Interlocked.Increment(ref _checks);
        var range = hosted.FirstOrDefault(h => h.RangeId == rangeId);
        if (range.RangeId != rangeId || (UnhostAfterChecks is { } after && check > after))
        {
            reason = $"this node hosts no range {rangeId}";
            return RangeDataAvailability.RangeNotHosted;
        }
        bool startInside = span.Start.Span.SequenceCompareTo(range.Span.Start.Span) >= 0;
        bool endInside = range.Span.IsUnbounded || (!span.IsUnbounded && span.End.Span.SequenceCompareTo(range.Span.End.Span) <= 0);
        if (!startInside || !endInside)
        {
            reason = $"range {rangeId} here is {range.Span}, which does not cover {span}";
            return RangeDataAvailability.SpanUnavailable;
        }
        reason = "";
        return RangeDataAvailability.Available;
    }
}
