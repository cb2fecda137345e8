// Closed- or open-loop load against Kv or etcd; see bench/README.md ("YCSB", "Kv vs etcd", "Commit protocols") and
// bench/ycsb.sh, bench/compare-etcd.sh, bench/commit-protocols.sh. stdout: one summary line (name=value pairs); stderr:
// progress once a second, error kinds; exit code 1 on errors.
using Kv.Load;
using Kv.Load.Ycsb;

if (args is ["costs", ..])
    return await CostsCommand.RunAsync(args[1..], CancellationToken.None);

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

switch (options.Operation)
{
    case LoadOperation.Setup:
        return await AccountSetup.SetupAsync(options, cts.Token);
    case LoadOperation.Verify:
        return await AccountSetup.VerifyAsync(options, cts.Token);
    case LoadOperation.Transfer or LoadOperation.Compare:
        return await RunTransfersAsync(options, cts.Token);
    case LoadOperation.Ycsb:
        return await RunYcsbAsync(options, cts.Token);
}

var keys = new KeySpace(options.Keys, options.ValueBytes, options.Seed);
await using ILoadTarget target = options.Target switch
{
    LoadTargetKind.Kv => new KvTarget(options, keys),
    _ => new EtcdTarget(options, keys),
};

if (options.Operation == LoadOperation.Load)
    return await RecordLoader.RunAsync(options, target, keys, cts.Token);

if (options.Operation == LoadOperation.Probe)
    return await ReadinessProbe.RunAsync(target, TimeSpan.FromSeconds(options.Seconds), cts.Token) ? 0 : 1;

// Every read must find its key, and a mixed run's gets too.
if (options.Operation is LoadOperation.Get or LoadOperation.SerializableGet or LoadOperation.Mixed)
    await Preloader.RunAsync(target, keys, Math.Min(options.Clients, 64), cts.Token);

if (options.Operation == LoadOperation.Mixed)
{
    var mixed = new MixedWorkload(target, keys.Count);
    var mixedRun = await LoadRunner.RunAsync(options, MixedWorkload.VariantNames.Count, mixed.RunAsync, timeline: null, cts.Token);
    return await ReportAsync(LoadResult.Merge(options, mixedRun, MixedWorkload.VariantNames), options, cts.Token);
}

LoadRunner.Operation operation = options.Operation switch
{
    LoadOperation.Get => async (random, ct) => { await target.GetAsync(random.Next(keys.Count), ct).ConfigureAwait(false); return default; },
    LoadOperation.SerializableGet => async (random, ct) => { await target.SerializableGetAsync(random.Next(keys.Count), ct).ConfigureAwait(false); return default; },
    _ => async (random, ct) => { await target.PutAsync(random.Next(keys.Count), ct).ConfigureAwait(false); return default; },
};
var run = await LoadRunner.RunAsync(options, variants: 1, operation, timeline: null, cts.Token);
return await ReportAsync(LoadResult.Merge(options, run), options, cts.Token);

static async Task<int> RunYcsbAsync(LoadOptions options, CancellationToken cancellationToken)
{
    await using var workload = new YcsbWorkload(options, new KeySpace(options.Keys, options.ValueBytes, options.Seed));
    var run = await LoadRunner.RunAsync(options, OperationMix.KindNames.Count, workload.RunAsync, timeline: null, cancellationToken);
    return await ReportAsync(LoadResult.Merge(options, run, OperationMix.KindNames), options, cancellationToken);
}

static async Task<int> RunTransfersAsync(LoadOptions options, CancellationToken cancellationToken)
{
    using var admin = new ClusterAdmin(options.Endpoints);
    TransferWorkload workload;
    try
    {
        workload = await TransferWorkload.CreateAsync(options, admin, new KeySpace(options.Keys, options.ValueBytes, options.Seed), cancellationToken);
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
    await using (workload)
    {
        var timeline = options.TimelinePath is { } path ? new Timeline(path, admin, workload) : null;
        LoadRunner.Operation operation = options.Operation == LoadOperation.Compare ? workload.RunCompareAsync : workload.RunAsync;
        var run = await LoadRunner.RunAsync(options, workload.VariantNames.Count, operation, timeline, cancellationToken);
        return await ReportAsync(LoadResult.Merge(options, run, transfer: workload, timeline: timeline), options, cancellationToken);
    }
}

static async Task<int> ReportAsync(LoadResult result, LoadOptions options, CancellationToken cancellationToken)
{
    Console.WriteLine(result.SummaryLine());
    foreach (var kind in result.ErrorKinds)
        Console.Error.WriteLine($"errors: {kind.Count} × {kind.Kind} (failed after {kind.MeanUs / 1000} ms on average, {kind.MaxUs / 1000} ms at most): {kind.FirstMessage}");
    foreach (var failure in result.ProbeFailures ?? [])
        Console.Error.WriteLine($"probe reads that failed: {failure.Count} × {failure.Kind} (after {failure.MeanUs / 1000} ms on average): {failure.FirstMessage}");
    if (options.JsonPath is { } path)
        await result.WriteJsonAsync(path, cancellationToken);
    if (options.MarkdownPath is { } markdown)
        await result.WriteMarkdownAsync(markdown, cancellationToken);
    return result.Errors == 0 ? 0 : 1;
}
