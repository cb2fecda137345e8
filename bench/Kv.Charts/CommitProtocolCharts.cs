using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ScottPlot;

namespace Kv.Charts;

/// <summary>
/// From <c>commit-protocols/</c> (bench/commit-protocols.sh): transactions per second around the coordinator's
/// SIGKILL and restart for each protocol (the 200 ms timeline CSVs summed per second, with the kill and restart
/// marked), and transaction latency percentiles per protocol, client count and ranges per transaction.
/// </summary>
internal static partial class CommitProtocolCharts
{
    private static readonly string[] Protocols = ["paxos", "two-phase"];

    public static IEnumerable<string> Draw(string results, string output)
    {
        string dir = Path.Combine(results, "commit-protocols");
        if (!Directory.Exists(dir)) yield break;
        if (DrawKill(dir, output) is { } kill) yield return kill;
        if (DrawLatency(dir, output) is { } latency) yield return latency;
    }

    private static string? DrawKill(string dir, string output)
    {
        var plot = new Plot();
        bool any = false;
        for (int i = 0; i < Protocols.Length; i++)
        {
            string csv = Path.Combine(dir, $"kill-{Protocols[i]}.csv");
            if (!File.Exists(csv)) continue;
            any = true;
            var perSecond = OpsPerSecond(csv);
            var color = ChartStyle.Palette[i];
            var line = plot.Add.Scatter(perSecond.Keys.Select(s => s + 0.5).ToArray(), perSecond.Values.ToArray(), color);
            line.LegendText = Label(Protocols[i]);
            string json = Path.Combine(dir, $"kill-{Protocols[i]}.json");
            if (!File.Exists(json)) continue;
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            if (!doc.RootElement.TryGetProperty("timeline", out var timeline)) continue;
            foreach (var (field, pattern) in new[] { ("kill_at_s", LinePattern.Solid), ("restart_at_s", LinePattern.Dashed) })
            {
                if (!timeline.TryGetProperty(field, out var at) || at.ValueKind != JsonValueKind.Number) continue;
                var mark = plot.Add.VerticalLine(at.GetDouble(), 1.5f, color, pattern);
                mark.LegendText = $"{Label(Protocols[i])}: {(field == "kill_at_s" ? "coordinator killed" : "restarted")}";
            }
        }
        if (!any) return null;
        plot.Title("Transfers per second around a SIGKILL of the coordinator\n16 clients, 2 ranges per transaction (bench/results/commit-protocols)");
        plot.XLabel("seconds since the load started");
        plot.YLabel("transactions / s");
        plot.Axes.SetLimitsY(0, double.NaN);
        plot.ShowLegend(Alignment.UpperRight);
        return ChartStyle.Save(plot, output, "commit-protocols-kill.png");
    }

    /// <summary>The timeline's <c>ops</c> column (per 200 ms sample) summed per whole second of <c>t_s</c>.</summary>
    private static SortedDictionary<int, double> OpsPerSecond(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        int t = Array.IndexOf(header, "t_s"), ops = Array.IndexOf(header, "ops");
        if (t < 0 || ops < 0) throw new InvalidDataException($"{csv}: no t_s or ops column");
        var sums = new SortedDictionary<int, double>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            int second = (int)double.Parse(f[t], CultureInfo.InvariantCulture);
            sums[second] = sums.GetValueOrDefault(second) + double.Parse(f[ops], CultureInfo.InvariantCulture);
        }
        return sums;
    }

    private static string? DrawLatency(string dir, string output)
    {
        var runs = new List<(string Protocol, int Clients, int Rpt, double P50, double P99)>();
        foreach (var file in Directory.GetFiles(dir, "transfer-*.json"))
        {
            var m = TransferName().Match(Path.GetFileName(file));
            if (!m.Success) continue;
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            runs.Add((m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture),
                doc.RootElement.GetProperty("p50_us").GetDouble() / 1000, doc.RootElement.GetProperty("p99_us").GetDouble() / 1000));
        }
        if (runs.Count == 0) return null;
        var groups = runs.Select(r => (r.Clients, r.Rpt)).Distinct().OrderBy(g => g.Clients).ThenBy(g => g.Rpt).ToArray();
        var series = new List<string>();
        var values = new List<double[]>();
        foreach (var (stat, pick) in new (string, Func<(string, int, int, double P50, double P99), double>)[] { ("p50", r => r.P50), ("p99", r => r.P99) })
        {
            foreach (var protocol in Protocols)
            {
                series.Add($"{Label(protocol)} {stat}");
                values.Add(groups.Select(g => runs.Where(r => r.Protocol == protocol && r.Clients == g.Clients && r.Rpt == g.Rpt)
                    .Select(pick).DefaultIfEmpty(0).First()).ToArray());
            }
        }
        var plot = new Plot();
        ChartStyle.GroupedBars(plot, groups.Select(g => $"{g.Clients} cl, {g.Rpt} rng").ToArray(), series, values.ToArray(), pairedTails: true);
        plot.Title("Transfer latency by protocol: clients (cl) × ranges per transaction (rng)\nbench/results/commit-protocols");
        plot.YLabel("whole transaction (ms)");
        return ChartStyle.Save(plot, output, "commit-protocols-latency.png");
    }

    private static string Label(string protocol) => protocol == "paxos" ? "Paxos commit" : "2PC";

    [GeneratedRegex(@"^transfer-(paxos|two-phase)-c(\d+)-r(\d+)\.json$")]
    private static partial Regex TransferName();
}
