using System.Globalization;
using System.Text;

namespace Kv.Load;

/// <summary>
/// A run's result as Markdown (<c>--markdown</c>): the settings, one table row for all operations and one per kind
/// (YCSB, compare), and the per-second series. Latencies in ms.
/// </summary>
internal static class ResultMarkdown
{
    public static string Render(LoadResult r)
    {
        var md = new StringBuilder();
        string title = r.Workload is { } w ? $"YCSB workload {w.ToUpperInvariant()} ({r.Distribution})" : $"{r.Op}";
        md.AppendLine(Invariant($"### {r.Target}: {title}, {r.Clients} client(s), {r.Loop} loop{(r.RatePerSecond is { } rate ? Invariant($" at {rate:0.#} ops/s") : "")}"));
        md.AppendLine();
        md.AppendLine(Invariant($"{r.Keys:N0} records of {r.ValueBytes} B; {r.WarmupSeconds:0.#} s warmup, {r.Seconds:0.##} s measured; load generator {r.ClientCores:0.00} cores."));
        md.AppendLine();
        md.AppendLine("| operations | count | ops/s | p50 | p90 | p99 | p99.9 | max | errors | retries | server CPU s / 1,000 ops |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        md.AppendLine(Invariant($"| all | {r.Ops:N0} | {r.OpsPerSecond:0.0} | {Ms(r.P50Us)} | {Ms(r.P90Us)} | {Ms(r.P99Us)} | {Ms(r.P999Us)} | {Ms(r.MaxUs)} | {r.Errors} | {r.Retries?.ToString(CultureInfo.InvariantCulture) ?? (r.Variants?.Sum(v => v.Retries).ToString(CultureInfo.InvariantCulture) ?? "–")} | {(r.ServerCpuSecondsPer1000Ops is { } c ? c.ToString("0.000", CultureInfo.InvariantCulture) : "–")} |"));
        foreach (var v in r.Variants ?? [])
            md.AppendLine(Invariant($"| {v.Name} | {v.Ops:N0} | {v.OpsPerSecond:0.0} | {Ms(v.P50Us)} | {Ms(v.P90Us)} | {Ms(v.P99Us)} | {Ms(v.P999Us)} | {Ms(v.MaxUs)} | | {v.Retries} | |"));
        md.AppendLine();
        if (r.PerSecond is { Count: > 0 } series)
        {
            md.AppendLine("Per second (by the second operations ended in; w = warmup):");
            md.AppendLine();
            md.AppendLine("| s | ops | errors | p50 | p99 | max |");
            md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var p in series)
                md.AppendLine(Invariant($"| {p.Second}{(p.Warmup ? " w" : "")} | {p.Ops:N0} | {p.Errors} | {Ms(p.P50Us)} | {Ms(p.P99Us)} | {Ms(p.MaxUs)} |"));
            md.AppendLine();
        }
        return md.ToString();
    }

    private static string Ms(long us) => (us / 1000.0).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
