using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kv.Server.Tests.Telemetry;

/// <summary>
/// Checks a Grafana dashboard against what a node exports: every metric name in its PromQL expressions must be a
/// series name of a real scrape, so that a renamed or misspelled metric shows up as a failing test instead of an
/// empty panel.
/// </summary>
internal static partial class DashboardMetricCheck
{
    /// <summary>The dashboard checked in (deploy/grafana), found from the test's working directory upwards.</summary>
    public static string DashboardPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "grafana", "kv-dashboard.json");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("deploy/grafana/kv-dashboard.json not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every PromQL expression (<c>expr</c> of any target) in the dashboard.</summary>
    public static IReadOnlyList<string> Expressions(string dashboardJson)
    {
        var found = new List<string>();
        void Walk(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        if (p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String) found.Add(p.Value.GetString()!);
                        else Walk(p.Value);
                    }
                    break;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray()) Walk(item);
                    break;
            }
        }
        using var doc = JsonDocument.Parse(dashboardJson);
        Walk(doc.RootElement);
        return found;
    }

    /// <summary>The metric names (kv_… identifiers) the expressions use.</summary>
    public static IReadOnlySet<string> MetricNames(IEnumerable<string> expressions) =>
        expressions.SelectMany(e => KvMetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

    /// <summary>The names the dashboard uses that the scrape does not have (empty: the dashboard is consistent).</summary>
    public static IReadOnlyList<string> UnknownMetrics(string dashboardJson, IReadOnlySet<string> exported) =>
        MetricNames(Expressions(dashboardJson)).Where(n => !exported.Contains(n)).Order(StringComparer.Ordinal).ToArray();

    // Label names inside braces (range_id, le) do not start with kv_, so only metric names match.
    [GeneratedRegex(@"\bkv_[a-z0-9_]+\b")]
    private static partial Regex KvMetricName();
}
