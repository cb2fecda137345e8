using System.Text.Json;
using ScottPlot;

namespace Kv.Charts;

/// <summary>
/// From <c>ycsb.json</c> (bench/ycsb.sh): throughput and p99 per second of each workload's measured window, and
/// p50/p90/p99/p99.9 per workload.
/// </summary>
internal static class YcsbCharts
{
    public static IEnumerable<string> Draw(string results, string output)
    {
        string path = Path.Combine(results, "ycsb.json");
        if (!File.Exists(path)) yield break;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        string subtitle = Subtitle(root);

        var throughput = new Plot();
        var p99 = new Plot();
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            string name = run.GetProperty("workload").GetString()!.ToUpperInvariant();
            double warmup = run.GetProperty("warmup_seconds").GetDouble();
            // Seconds that ended inside the measured window, counted from its start.
            var points = run.GetProperty("per_second").EnumerateArray()
                .Select(p => (T: p.GetProperty("second").GetInt32() + 1 - warmup, Ops: p.GetProperty("ops").GetDouble(), P99: p.GetProperty("p99_us").GetDouble() / 1000))
                .Where(p => p.T >= 1 && p.T <= run.GetProperty("seconds").GetDouble() + 0.5)
                .ToArray();
            var color = ChartStyle.Palette[i % ChartStyle.Palette.Length];
            var line = throughput.Add.Scatter(points.Select(p => p.T).ToArray(), points.Select(p => p.Ops).ToArray(), color);
            line.LegendText = name;
            var latency = p99.Add.Scatter(points.Select(p => p.T).ToArray(), points.Select(p => p.P99).ToArray(), color);
            latency.LegendText = name;
        }
        throughput.Title($"YCSB: operations per second over the measured window\n{subtitle}");
        throughput.XLabel("second of the measured window");
        throughput.YLabel("operations / s");
        throughput.Axes.SetLimitsY(0, double.NaN);
        throughput.ShowLegend(Alignment.LowerRight);
        yield return ChartStyle.Save(throughput, output, "ycsb-throughput.png");

        p99.Title($"YCSB: p99 latency per second\n{subtitle}");
        p99.XLabel("second of the measured window");
        p99.YLabel("p99 (ms)");
        p99.ShowLegend(Alignment.UpperRight);
        yield return ChartStyle.Save(p99, output, "ycsb-p99-per-second.png");

        var percentiles = new Plot();
        string[] names = ["p50_us", "p90_us", "p99_us", "p999_us"];
        ChartStyle.GroupedBars(percentiles,
            runs.Select(r => r.GetProperty("workload").GetString()!.ToUpperInvariant()).ToArray(),
            ["p50", "p90", "p99", "p99.9"],
            names.Select(n => runs.Select(r => r.GetProperty(n).GetDouble() / 1000).ToArray()).ToArray());
        percentiles.Title($"YCSB: latency percentiles per workload\n{subtitle}");
        percentiles.YLabel("latency (ms)");
        yield return ChartStyle.Save(percentiles, output, "ycsb-latency.png");
    }

    private static string Subtitle(JsonElement root)
    {
        var s = root.GetProperty("settings");
        var m = root.GetProperty("machine");
        return $"3 nodes, {s.GetProperty("ranges").GetInt32()} ranges, {s.GetProperty("records").GetInt32():N0} records, "
            + $"{s.GetProperty("clients").GetInt32()} clients, {s.GetProperty("distribution").GetString()}; "
            + $"{m.GetProperty("cores").GetInt32()} cores, load avg {OneMinute(m, "loadavg_start")} → {OneMinute(m, "loadavg_end")}";
    }

    /// <summary>The 1-minute figure of a "1 5 15" load average.</summary>
    private static string OneMinute(JsonElement machine, string field) => machine.GetProperty(field).GetString()!.Split(' ')[0];
}
