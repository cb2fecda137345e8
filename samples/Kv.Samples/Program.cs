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

    // Batches: grouped by range, one Batch RPC per range; not atomic (use a transaction for all-or-nothing).
    await kv.PutManyAsync(Enumerable.Range(0, 100).Select(i => ($"sample/batch/{i:D3}", $"value {i}")), cts.Token);
    var some = await kv.GetManyAsync(["sample/batch/007", "sample/batch/missing", "sample/batch/099"], cts.Token);
    Console.WriteLine($"get-many: {string.Join(", ", some.Select(e => e?.ValueString ?? "(none)"))}");

    Console.WriteLine($"delete sample/greeting: existed = {await kv.DeleteAsync("sample/greeting", cts.Token)}");

    // A transfer between two accounts, atomic and serializable: run again by the client if it conflicts.
    await kv.PutAsync("sample/accounts/alice", "100", cts.Token);
    await kv.PutAsync("sample/accounts/bob", "50", cts.Token);
    int moved = await kv.RunTransactionAsync(async tx =>
    {
        int alice = int.Parse(await tx.GetStringAsync("sample/accounts/alice", cts.Token) ?? "0");
        int bob = int.Parse(await tx.GetStringAsync("sample/accounts/bob", cts.Token) ?? "0");
        int amount = Math.Min(30, alice);           // never overdraw
        await tx.PutAsync("sample/accounts/alice", (alice - amount).ToString(), cts.Token);
        await tx.PutAsync("sample/accounts/bob", (bob + amount).ToString(), cts.Token);
        return amount;
    }, new KvTransactionOptions { Protocol = KvCommitProtocol.Paxos }, cts.Token);
    Console.WriteLine($"transferred {moved}: alice = {await kv.GetStringAsync("sample/accounts/alice", cts.Token)}, "
        + $"bob = {await kv.GetStringAsync("sample/accounts/bob", cts.Token)}");

    // The explicit form: begin, read, write, commit; on a conflict, begin again.
    await using (var tx = await kv.BeginTransactionAsync(cancellationToken: cts.Token))
    {
        string? note = await tx.GetStringAsync("sample/accounts/note", cts.Token);
        await tx.PutAsync("sample/accounts/note", note is null ? "audited once" : note + ", again", cts.Token);
        KvVersion committedAt = await tx.CommitAsync(cts.Token);
        Console.WriteLine($"note committed at {committedAt}");
    }
    return 0;
}
catch (KvBatchException e)
{
    Console.Error.WriteLine($"{e.Code}: {e.Message} ({e.WriteOutcomes.Count(o => o == KvWriteOutcome.NotApplied)} entries not applied)");
    return 1;
}
catch (KvTransactionOutcomeUnknownException e)
{
    Console.Error.WriteLine($"{e.Code}: {e.Message} (read the accounts to see whether it committed)");
    return 1;
}
catch (KvException e)
{
    Console.Error.WriteLine($"{e.Code}: {e.Message}");
    return 1;
}
