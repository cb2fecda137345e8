// Closed-loop load against Kv or etcd; see bench/README.md ("Kv vs etcd") and bench/compare-etcd.sh.
// stdout: one summary line (name=value pairs); stderr: progress once a second, error kinds; exit code 1 on errors.
using Kv.Load;

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

var keys = new KeySpace(options.Keys, options.ValueBytes, options.Seed);
await using ILoadTarget target = options.Target switch
{
    LoadTargetKind.Kv => new KvTarget(options, keys),
    _ => new EtcdTarget(options, keys),
};

if (options.Operation == LoadOperation.Probe)
    return await ReadinessProbe.RunAsync(target, TimeSpan.FromSeconds(options.Seconds), cts.Token) ? 0 : 1;

if (options.Operation == LoadOperation.Get)
    await Preloader.RunAsync(target, keys, Math.Min(options.Clients, 64), cts.Token);

var result = await LoadRunner.RunAsync(target, options, keys, cts.Token);
Console.WriteLine(result.SummaryLine());
foreach (var kind in result.ErrorKinds)
    Console.Error.WriteLine($"errors: {kind.Count} × {kind.Kind}: {kind.FirstMessage}");
if (options.JsonPath is { } path)
    await result.WriteJsonAsync(path, cts.Token);
return result.Errors == 0 ? 0 : 1;
