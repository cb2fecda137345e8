using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kv.ClientBench;

/// <summary>
/// What <c>Kv.Client</c> costs over the raw generated gRPC call, for a Get of one 256-byte value on a running
/// cluster (started by <c>bench/client-overhead.sh</c>): writes the value, finds the key's leader, warms up, then
/// measures latency with 1 and N callers (variants interleaved in blocks), bytes allocated per Get, which types
/// those bytes are, and a few pieces of the SDK's machinery alone. Progress on stderr; a summary line on stdout;
/// the figures as JSON (<c>--json</c>) and a markdown report (<c>--report</c>).
/// </summary>
public static class Program
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>0 when every phase ran (whether or not the targets are met), 1 on a failure, 2 on bad usage.</summary>
    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
        try
        {
            await RunAsync(options).ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or Grpc.Core.RpcException or Kv.Client.KvException)
        {
            await Console.Error.WriteLineAsync($"client-overhead: {e}").ConfigureAwait(false);
            return 1;
        }
    }

    private static Dictionary<string, int> Subtract(IReadOnlyDictionary<string, int> now, IReadOnlyDictionary<string, int> before) =>
        now.Select(e => (e.Key, Count: e.Value - before.GetValueOrDefault(e.Key))).Where(e => e.Count > 0)
            .ToDictionary(e => e.Key, e => e.Count, StringComparer.Ordinal);

    private static void Log(string message) => Console.Error.WriteLine($"[clientbench {DateTime.Now:HH:mm:ss}] {message}");

    private static async Task RunAsync(BenchOptions o)
    {
        string started = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        byte[] key = Encoding.UTF8.GetBytes("clientbench/key");
        byte[] value = new byte[o.ValueBytes];
        new Random(42).NextBytes(value);

        Log($"writing a {o.ValueBytes}-byte value");
        await ClusterSetup.WriteValueAsync(o.Endpoints, key, value, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        var (leader, how) = await ClusterSetup.FindLeaderAsync(o.Endpoints, key, o.ValueBytes, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        Log($"leader of the key's range: {leader} ({how})");

        await using var gets = new GetVariants(o.Endpoints, leader, key, o.ValueBytes);
        Log($"warmup: {o.WarmupGets} Gets of each variant");
        await Measurements.WarmUpAsync(gets, Measurements.All, o.WarmupGets).ConfigureAwait(false);
        if (!string.Equals(gets.SdkLeader, leader, StringComparison.Ordinal))
            throw new InvalidOperationException($"after the warmup the SDK routes to {gets.SdkLeader ?? "no cached leader"}, not to {leader}");
        Log($"cached leader after the warmup: sdk {gets.SdkLeader}, leader-first sdk {gets.SdkLeaderFirstLeader ?? "none"}");
        foreach (var m in gets.SdkEvents.FirstMessages()) Log($"  sdk: {m}");
        foreach (var m in gets.SdkLeaderFirstEvents.FirstMessages()) Log($"  sdk, leader first: {m}");
        var eventsAfterWarmup = gets.SdkEvents.Snapshot();
        var leaderFirstEventsAfterWarmup = gets.SdkLeaderFirstEvents.Snapshot();

        var cpu = new CpuWindow(o.NodePids);
        Log($"latency, 1 caller: {o.Blocks} rounds × {o.BlockGets} Gets per variant");
        var single = await Measurements.LatencyAsync(gets, 1, o.BlockGets, o.Blocks).ConfigureAwait(false);
        Log($"  p50 sdk {single.Variants[0].P50Us:0} µs, raw {single.Variants[1].P50Us:0} µs, ratio {single.P50RatioSdkToRaw:0.000}");
        LatencyRun? concurrent = null;
        if (o.Concurrency > 1)
        {
            Log($"latency, {o.Concurrency} callers: {o.ConcurrentBlocks} rounds × {o.Concurrency} × {o.ConcurrentBlockGets} Gets per variant");
            concurrent = await Measurements.LatencyAsync(gets, o.Concurrency, o.ConcurrentBlockGets, o.ConcurrentBlocks).ConfigureAwait(false);
            Log($"  p50 sdk {concurrent.Variants[0].P50Us:0} µs, raw {concurrent.Variants[1].P50Us:0} µs, ratio {concurrent.P50RatioSdkToRaw:0.000}");
        }
        Log($"allocations: {o.AllocRounds} rounds × {o.AllocGets} Gets per variant");
        var allocations = await Measurements.AllocationsAsync(gets, Measurements.All, o.AllocGets, o.AllocRounds).ConfigureAwait(false);
        foreach (var a in allocations) Log($"  {a.Variant} round {a.Round}: {a.BytesPerGet:0} B per Get");
        var eventsMeasured = Subtract(gets.SdkEvents.Snapshot(), eventsAfterWarmup);
        var leaderFirstEventsMeasured = Subtract(gets.SdkLeaderFirstEvents.Snapshot(), leaderFirstEventsAfterWarmup);
        var cpuUse = cpu.End();
        string loadEnd = Machine.LoadAverage();

        var diagnostic = Array.Empty<AllocationRound>();
        if (o.DiagnosticRounds > 0)
        {
            Log($"allocations, diagnostic variants: warmup, then {o.DiagnosticRounds} round(s) × {o.AllocGets} Gets each");
            await Measurements.WarmUpAsync(gets, Measurements.AllocationOnly, Math.Max(100, o.WarmupGets / 3)).ConfigureAwait(false);
            diagnostic = await Measurements.AllocationsAsync(gets, Measurements.AllocationOnly, o.AllocGets, o.DiagnosticRounds).ConfigureAwait(false);
            foreach (var a in diagnostic) Log($"  {a.Variant} round {a.Round}: {a.BytesPerGet:0} B per Get");
        }

        var profiles = new List<AllocationProfile>();
        if (o.ProfileGets > 0)
        {
            Log($"allocation sampling: {o.ProfileGets} Gets of sdk and raw");
            using var profiler = new AllocationProfiler();
            profiles.Add(await profiler.ProfileAsync(gets, Variant.Sdk, o.ProfileGets).ConfigureAwait(false));
            profiles.Add(await profiler.ProfileAsync(gets, Variant.Raw, o.ProfileGets).ConfigureAwait(false));
        }
        Log("pieces of the SDK's machinery, alone");
        var components = Components.Measure();

        var results = new BenchResults(started, o.Commit, leader, how, o.ValueBytes, key.Length, single, concurrent, allocations,
            diagnostic, profiles.ToArray(), components, eventsAfterWarmup, eventsMeasured, leaderFirstEventsAfterWarmup,
            leaderFirstEventsMeasured, gets.SdkLeaderFirstLeader ?? "", cpuUse, o.LoadAverageStart, loadEnd);
        if (results.SdkLogEventsMeasured.Count + results.SdkLeaderFirstLogEventsMeasured.Count > 0)
            Log("an SDK client logged retries or routing changes during the measurement (see the report's checks)");
        if (o.JsonPath is { } json) await File.WriteAllTextAsync(json, JsonSerializer.Serialize(results, Json)).ConfigureAwait(false);
        if (o.ReportPath is { } report) await File.WriteAllTextAsync(report, Report.Write(results, o)).ConfigureAwait(false);

        double sdkBytes = Report.MeanBytesPerGet(results, "sdk");
        double rawBytes = Report.MeanBytesPerGet(results, "raw");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"p50_ratio={single.P50RatioSdkToRaw:0.000} p50_sdk_us={single.Variants[0].P50Us:0} p50_raw_us={single.Variants[1].P50Us:0}"
            + $" p50_ratio_{o.Concurrency}={(concurrent?.P50RatioSdkToRaw ?? double.NaN):0.000}"
            + $" bytes_per_get_sdk={sdkBytes:0} bytes_per_get_raw={rawBytes:0} sdk_beyond_value={sdkBytes - o.ValueBytes:0}"
            + $" latency_target={(single.P50RatioSdkToRaw <= Report.P50RatioMax ? "met" : "NOT_met")}"
            + $" allocation_target={(sdkBytes - o.ValueBytes <= Report.BytesBeyondValueMax ? "met" : "NOT_met")}"));
    }
}
