namespace Kv.ClientBench;

/// <summary>One variant's latencies in one run (µs).</summary>
internal sealed record VariantLatency(
    string Variant, int Gets, double P50Us, double P90Us, double P99Us, double P999Us, double MaxUs, double MeanUs,
    double GetsPerSecond, double[] BlockMediansUs);

/// <summary>The spread of a per-block ratio (SDK block median ÷ raw block median of the same pair).</summary>
internal sealed record RatioSpread(double Min, double P10, double Median, double P90, double Max, int Pairs);

/// <summary>One latency run: single caller or concurrent callers, all variants interleaved in blocks.</summary>
internal sealed record LatencyRun(
    int Callers, int GetsPerCallerPerBlock, int Blocks, VariantLatency[] Variants, double P50RatioSdkToRaw,
    RatioSpread BlockRatiosSdkToRaw, double Seconds);

/// <summary>
/// One allocation measurement: <see cref="Gets"/> sequential Gets of one variant, the bytes allocated, and the
/// benchmark process's CPU time (user + system, every thread) per Get.
/// </summary>
internal sealed record AllocationRound(
    string Variant, int Round, int Gets, long Bytes, double BytesPerGet, int Gen0Collections, double Seconds, double ProcessCpuUsPerGet);

/// <summary>A type's share of the sampled allocations of one variant, in estimated bytes per Get.</summary>
internal sealed record TypeShare(string Type, double BytesPerGet, int Samples);

/// <summary>The sampled allocations of one variant, by type.</summary>
internal sealed record AllocationProfile(string Variant, int Gets, int Samples, double SampledBytesPerGet, TypeShare[] Types);

/// <summary>A piece of the SDK's per-call machinery measured alone, in process (no network).</summary>
internal sealed record ComponentCost(string Name, string What, int Ops, double BytesPerOp, double NsPerOp);

/// <summary>CPU use over the measured phases: cores = CPU seconds ÷ wall seconds.</summary>
internal sealed record CpuUse(double WallSeconds, double BenchCores, double NodesCores, double MachineCores, double UnrelatedCores);

/// <summary>Everything one run measured, as written to the JSON file.</summary>
internal sealed record BenchResults(
    string StartedUtc, string Commit, string Leader, string LeaderFoundBy, int ValueBytes, int KeyBytes,
    LatencyRun Single, LatencyRun? Concurrent, AllocationRound[] AllocationRounds, AllocationRound[] DiagnosticAllocationRounds,
    AllocationProfile[] Profiles, ComponentCost[] Components, IReadOnlyDictionary<string, int> SdkLogEventsWarmup,
    IReadOnlyDictionary<string, int> SdkLogEventsMeasured, IReadOnlyDictionary<string, int> SdkLeaderFirstLogEventsWarmup,
    IReadOnlyDictionary<string, int> SdkLeaderFirstLogEventsMeasured, string SdkLeaderFirstCachedLeader, CpuUse Cpu, string LoadAverageStart,
    string LoadAverageEnd);
