using System.Diagnostics.Tracing;

namespace Kv.ClientBench;

/// <summary>
/// Which types a loop of Gets allocates, from the runtime's <c>GCAllocationTick</c> events (one each time about
/// 100 KB has been allocated, naming the type of the object that crossed the mark and the amount since the last
/// event). Summing the amounts by type estimates each type's bytes; it is a sample, so small shares are rough.
/// Runs in a pass of its own after the measured ones: the listener allocates as events arrive.
/// </summary>
internal sealed class AllocationProfiler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly List<(DateTime At, string Type, long Bytes)> _ticks = [];

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.PayloadNames is null) return;
        int typeAt = eventData.PayloadNames.IndexOf("TypeName");
        int amountAt = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (amountAt < 0) amountAt = eventData.PayloadNames.IndexOf("AllocationAmount");
        if (typeAt < 0 || amountAt < 0 || eventData.Payload is null) return;
        string type = eventData.Payload[typeAt] as string ?? "?";
        long bytes = Convert.ToInt64(eventData.Payload[amountAt], System.Globalization.CultureInfo.InvariantCulture);
        lock (_ticks) _ticks.Add((eventData.TimeStamp.ToUniversalTime(), type, bytes));
    }

    /// <summary>Runs <paramref name="count"/> Gets of <paramref name="variant"/> and tallies the events inside that window.</summary>
    public async Task<AllocationProfile> ProfileAsync(GetVariants gets, Variant variant, int count)
    {
        var scratch = new long[count];
        await Task.Delay(500).ConfigureAwait(false);
        DateTime from = DateTime.UtcNow;
        await gets.RunAsync(variant, scratch, 0, count).ConfigureAwait(false);
        DateTime to = DateTime.UtcNow;
        await Task.Delay(1500).ConfigureAwait(false); // events arrive through a dispatch thread, a little late
        List<(DateTime At, string Type, long Bytes)> window;
        lock (_ticks) window = _ticks.Where(t => t.At >= from && t.At <= to).ToList();
        var types = window.GroupBy(t => t.Type)
            .Select(g => new TypeShare(g.Key, (double)g.Sum(t => t.Bytes) / count, g.Count()))
            .OrderByDescending(t => t.BytesPerGet)
            .ToArray();
        return new AllocationProfile(Measurements.Name(variant), count, window.Count, (double)window.Sum(t => t.Bytes) / count, types);
    }
}
