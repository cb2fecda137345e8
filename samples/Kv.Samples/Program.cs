// A tour of Kv.Client: dotnet run --project samples/Kv.Samples -- --endpoints http://127.0.0.1:7101,http://127.0.0.1:7102
using Kv.Client;

string endpoints = "http://127.0.0.1:7101,http://127.0.0.1:7102,http://127.0.0.1:7103";
for (int i = 0; i < args.Length - 1; i++)
    if (args[i] == "--endpoints") endpoints = args[i + 1];

using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

await using var kv = new KvClient(endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    new KvClientOptions { OverallDeadline = TimeSpan.FromSeconds(15) });
try
{
    var version = await kv.PutAsync("sample/greeting", "hello", cts.Token);
    Console.WriteLine($"put sample/greeting at {version}; leader {kv.CachedLeaderEndpoint}");
    Console.WriteLine($"get sample/greeting = {await kv.GetStringAsync("sample/greeting", cts.Token)}");

    var cas = await kv.CompareAndSetAsync("sample/greeting", KvCondition.Version(version), "hello again", cts.Token);
    Console.WriteLine($"compare-and-set on version {version}: {(cas.Succeeded ? "succeeded" : "failed")}");

    for (int i = 0; i < 5; i++) await kv.PutAsync($"sample/items/{i}", $"item {i}", cts.Token);
    await foreach (var e in kv.ScanPrefixAsync("sample/items/", new KvScanOptions { PageSize = 2, Reverse = true }, cts.Token))
        Console.WriteLine($"  {e.KeyString} = {e.ValueString}");

    Console.WriteLine($"delete sample/greeting: existed = {await kv.DeleteAsync("sample/greeting", cts.Token)}");
    return 0;
}
catch (KvException e)
{
    Console.Error.WriteLine($"{e.Code}: {e.Message}");
    return 1;
}
