using System.Text;
using Kv.Proto.V1;

namespace Kv.Client.Tests;

/// <summary>GetMany and PutMany against the shared 3-node cluster in this process.</summary>
[Collection(ClusterCollection.Name)]
public sealed class KvClientBatchTests(ClusterFixture cluster)
{
    private static string Unique(string name) => $"batch-{name}/{Guid.NewGuid():N}";

    [Fact(Timeout = 30_000)]
    public async Task PutManyThenGetMany_RoundTrip_InInputOrder_MissingIsNull()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string prefix = Unique("rt") + "/";
        var entries = Enumerable.Range(0, 30).Select(i => ($"{prefix}{i:D2}", $"v{i}")).ToList();
        await client.PutManyAsync(entries);

        var keys = new[] { $"{prefix}07", $"{prefix}missing", $"{prefix}00", $"{prefix}07" };
        var read = await client.GetManyAsync(keys);
        Assert.Equal(["v7", null, "v0", "v7"], read.Select(e => e?.ValueString));
        Assert.Equal(read[0]!.Version, (await client.GetAsync(keys[0]))!.Version);

        // The byte forms, with a binary value.
        var key = (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(prefix + "bin");
        await client.PutManyAsync([(key, new byte[] { 0, 255 })]);
        Assert.Equal(new byte[] { 0, 255 }, (await client.GetManyAsync([key])).Single()!.Value.ToArray());
        Assert.Equal(31, await client.ScanPrefixAsync(prefix).CountAsync());
    }

    /// <summary>
    /// The first Batch response is dropped after the leader applied every put (the handler under the client's
    /// channel reads it, then fails the call as a reset connection). The client retries with the same write ids, and
    /// each key keeps the version of that first application: applied once.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task PutMany_AfterALostResponse_AppliesEachPutOnce()
    {
        var attempts = new AttemptCounter { DropFirstResponseOf = "/kv.v1.Kv/Batch" };
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        string prefix = Unique("once") + "/";
        var entries = Enumerable.Range(0, 20).Select(i => ($"{prefix}{i:D2}", $"v{i}")).ToList();

        await client.PutManyAsync(entries);

        Assert.Equal(1, attempts.Dropped);
        var first = attempts.DroppedMessage(BatchResponse.Parser);
        Assert.Equal(entries.Count, first.Results.Count);
        var read = await client.GetManyAsync(entries.Select(e => e.Item1));
        for (int i = 0; i < entries.Count; i++)
        {
            Assert.Equal(entries[i].Item2, read[i]!.ValueString);
            Assert.Equal(KvClient.ToVersion(first.Results[i].Put.Version), read[i]!.Version);
        }
    }
}
