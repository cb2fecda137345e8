using Google.Protobuf;
using Grpc.Core;
using Kv.Proto.V1;
using Xunit.Abstractions;

namespace Kv.Server.Tests.Process;

/// <summary>Splits of a range under write load, on three real server processes.</summary>
public sealed class SplitProcessTests(ITestOutputHelper output)
{
    // Small ranges split by size every half second, as well as by admin calls.
    private static readonly string[] SplitFlags =
        ["--key-bytes-max", "256", "--value-bytes-max", "4096", "--range-split-bytes", "32768", "--split-check-interval-ms", "500"];

    [Fact(Timeout = 120_000)]
    public async Task SplitUnderLoad_NoAcknowledgedWriteIsLost_AndNoKeyIsDuplicated()
    {
        using var cluster = await ClusterProcesses.StartAsync(TimeSpan.FromSeconds(60), SplitFlags);
        try
        {
            await using var load = WriteLoad.Start(cluster, "s", writers: 4);
            Assert.True(await load.WaitForAcksAsync(200, TimeSpan.FromSeconds(30)), "no write load: " + load.ErrorSummary);
            // Admin splits inside the keys being written, through different nodes, while the size-based ones run.
            int node = 1;
            foreach (var key in new[] { "s/w01", "s/w02/00000100", "s/w03", "s/w00/00000300" })
            {
                var split = await SplitAsync(cluster, node, key);
                output.WriteLine($"split at {key} via node {node}: {Describe(split.Left)} | {Describe(split.Right)}");
                node = node % 3 + 1;
                await Task.Delay(300);
            }
            Assert.True(await load.WaitForAcksAsync(load.AckCount + 2000, TimeSpan.FromSeconds(30)), "writes stalled after the splits: " + load.ErrorSummary);
            await load.StopAsync();
            output.WriteLine($"{load.AckCount} writes acknowledged; errors: {load.ErrorSummary}");

            var ranges = (await cluster.Admin(1).ListRangesAsync(new ListRangesRequest())).Ranges;
            output.WriteLine($"{ranges.Count} ranges: " + string.Join(" ", ranges.Select(Describe)));
            Assert.True(ranges.Count > 5, $"expected the 4 admin splits and size-based ones, got {ranges.Count} ranges");
            for (int i = 1; i < ranges.Count; i++) Assert.Equal(ranges[i - 1].EndKey, ranges[i].StartKey);

            var scanned = await ScanAllAsync(cluster, "s/", "s0");
            var keys = scanned.Select(e => e.Key.ToStringUtf8()).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
            var values = scanned.ToDictionary(e => e.Key.ToStringUtf8(), e => e.Value.ToStringUtf8());
            foreach (var ack in load.Acks)
            {
                Assert.True(values.TryGetValue(ack.Key, out var value), $"acknowledged write {ack.Key} is missing");
                Assert.Equal(ack.Value, value);
            }
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static async Task<SplitRangeResponse> SplitAsync(ClusterProcesses cluster, int node, string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                return await cluster.Admin(node).SplitRangeAsync(new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(key) },
                    deadline: DateTime.UtcNow.AddSeconds(10));
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
            }
        }
    }

    private static async Task<List<KeyValue>> ScanAllAsync(ClusterProcesses cluster, string start, string end)
    {
        var all = new List<KeyValue>();
        var request = new ScanRequest { StartKey = ByteString.CopyFromUtf8(start), EndKey = ByteString.CopyFromUtf8(end), Limit = 1000 };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            ScanResponse? page = null;
            foreach (int id in ClusterProcesses.NodeIds)
            {
                try
                {
                    page = await cluster.Client(id).ScanAsync(request, deadline: DateTime.UtcNow.AddSeconds(5));
                    break;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable && DateTime.UtcNow < deadline)
                {
                }
            }
            if (page is null)
            {
                await Task.Delay(20);
                continue;
            }
            all.AddRange(page.Entries);
            if (page.ResumeKey.IsEmpty) return all;
            request = request.Clone();
            request.StartKey = page.ResumeKey;
        }
    }

    private static string Describe(RangeDescriptor d) =>
        $"r{d.RangeId}[{d.StartKey.ToStringUtf8()},{(d.EndKey.IsEmpty ? "∞" : d.EndKey.ToStringUtf8())})g{d.Generation}";
}
