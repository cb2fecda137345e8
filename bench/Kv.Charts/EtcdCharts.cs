using System.Globalization;
using ScottPlot;

namespace Kv.Charts;

/// <summary>
/// From <c>kv-vs-etcd.md</c> (bench/compare-etcd.sh, which keeps no JSON of its runs): the results table's rows
/// (scenario, system, ops/s, p50, p90, p99, …) as throughput and latency bars, Kv next to etcd.
/// </summary>
internal static class EtcdCharts
{
    public static IEnumerable<string> Draw(string results, string output)
    {
        string path = Path.Combine(results, "kv-vs-etcd.md");
        if (!File.Exists(path)) yield break;
        var rows = ReadRows(File.ReadAllLines(path));
        if (rows.Count == 0) yield break;
        var scenarios = rows.Select(r => r.Scenario).Distinct().ToArray();
        string[] systems = ["etcd", "Kv"];
        double Value(string scenario, string system, Func<Row, double> pick) =>
            rows.Where(r => r.Scenario == scenario && r.System == system).Select(pick).DefaultIfEmpty(0).First();

        var throughput = new Plot();
        ChartStyle.GroupedBars(throughput, scenarios, systems,
            systems.Select(s => scenarios.Select(c => Value(c, s, r => r.OpsPerSecond)).ToArray()).ToArray());
        throughput.Title("Kv vs etcd: throughput, 3 nodes on one machine (bench/results/kv-vs-etcd.md)");
        throughput.YLabel("operations / s");
        yield return ChartStyle.Save(throughput, output, "kv-vs-etcd-throughput.png");

        var latency = new Plot();
        ChartStyle.GroupedBars(latency, scenarios, ["etcd p50", "Kv p50", "etcd p99", "Kv p99"],
        [
            scenarios.Select(c => Value(c, "etcd", r => r.P50Ms)).ToArray(),
            scenarios.Select(c => Value(c, "Kv", r => r.P50Ms)).ToArray(),
            scenarios.Select(c => Value(c, "etcd", r => r.P99Ms)).ToArray(),
            scenarios.Select(c => Value(c, "Kv", r => r.P99Ms)).ToArray(),
        ], pairedTails: true);
        latency.Title("Kv vs etcd: latency, 3 nodes on one machine (bench/results/kv-vs-etcd.md)");
        latency.YLabel("latency (ms)");
        yield return ChartStyle.Save(latency, output, "kv-vs-etcd-latency.png");
    }

    private sealed record Row(string Scenario, string System, double OpsPerSecond, double P50Ms, double P99Ms);

    /// <summary>The rows of the table whose header starts <c>| scenario | system | ops/s | p50 | p90 | p99 |</c>.</summary>
    private static List<Row> ReadRows(string[] lines)
    {
        var rows = new List<Row>();
        int header = Array.FindIndex(lines, l => l.StartsWith("| scenario | system | ops/s | p50 | p90 | p99 |", StringComparison.Ordinal));
        if (header < 0) return rows;
        for (int i = header + 2; i < lines.Length && lines[i].StartsWith('|'); i++)
        {
            var cells = lines[i].Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length < 6) continue;
            if (!double.TryParse(cells[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double ops)) continue;
            rows.Add(new Row(cells[0], cells[1], ops,
                double.Parse(cells[3], CultureInfo.InvariantCulture), double.Parse(cells[5], CultureInfo.InvariantCulture)));
        }
        return rows;
    }
}
