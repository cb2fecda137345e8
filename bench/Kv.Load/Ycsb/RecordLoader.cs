using System.Diagnostics;
using System.Globalization;

namespace Kv.Load.Ycsb;

/// <summary>
/// <c>--op load</c>, YCSB's load phase: splits the key space into <see cref="LoadOptions.Ranges"/> ranges at evenly
/// spaced record keys (so that uniform and scrambled-zipfian picks spread over every range), then writes every record.
/// </summary>
internal static class RecordLoader
{
    /// <summary>The record keys that start ranges 2 … <paramref name="ranges"/> of <paramref name="records"/> records.</summary>
    public static IEnumerable<string> SplitKeys(int records, int ranges) =>
        Enumerable.Range(1, ranges - 1).Select(i => KeySpace.Name((int)((long)records * i / ranges))).Distinct(StringComparer.Ordinal);

    public static async Task<int> RunAsync(LoadOptions options, ILoadTarget target, KeySpace keys, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        using var admin = new ClusterAdmin(options.Endpoints);
        await admin.SplitAtAsync(SplitKeys(keys.Count, options.Ranges), cancellationToken).ConfigureAwait(false);
        double splitSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long loadStart = Stopwatch.GetTimestamp();
        await Preloader.RunAsync(target, keys, Math.Clamp(options.Clients, 1, 256), cancellationToken).ConfigureAwait(false);
        double loadSeconds = Stopwatch.GetElapsedTime(loadStart).TotalSeconds;
        var ranges = await admin.ListRangesAsync(cancellationToken).ConfigureAwait(false);
        var layout = await AccountSetup.LayoutAsync(admin, ranges, cancellationToken).ConfigureAwait(false);
        foreach (var line in layout.Lines) Console.Error.WriteLine(line);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ranges={ranges.Count} records={keys.Count} value_bytes={keys.Value.Length} split_s={splitSeconds:0.0} load_s={loadSeconds:0.0} "
            + $"load_ops_per_s={keys.Count / loadSeconds:0} leaders={layout.Leaders}"));
        return 0;
    }
}
