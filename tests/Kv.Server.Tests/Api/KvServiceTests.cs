using Google.Protobuf;
using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>The client API end to end: a gRPC client against node 1, sole voter and leader of range 1.</summary>
public sealed class KvServiceTests : IAsyncLifetime
{
    private KvTestServer _server = null!;

    private Wire.Kv.KvClient Client => _server.Client;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static Wire.WriteId Id(ulong client, ulong sequence) => new() { ClientId = client, Sequence = sequence };

    private async Task<Wire.PutResponse> PutAsync(string key, string value, Wire.WriteId? writeId = null) =>
        await Client.PutAsync(new Wire.PutRequest { Key = B(key), Value = B(value), WriteId = writeId }, deadline: KvTestServer.Deadline());

    private async Task<Wire.GetResponse> GetAsync(string key) =>
        await Client.GetAsync(new Wire.GetRequest { Key = B(key) }, deadline: KvTestServer.Deadline());

    private async Task<Wire.CompareAndSetResponse> CasAsync(Wire.CompareAndSetRequest request) =>
        await Client.CompareAndSetAsync(request, deadline: KvTestServer.Deadline());

    private async Task<Wire.ScanResponse> ScanAsync(Wire.ScanRequest request) =>
        await Client.ScanAsync(request, deadline: KvTestServer.Deadline());

    [Fact(Timeout = 30_000)]
    public async Task Put_ThenGet_ReturnsTheValueAtItsVersion()
    {
        var put = await PutAsync("apple", "red");
        Assert.NotNull(put.Version);
        Assert.True(put.Version.WallNanos > 0);

        var get = await GetAsync("apple");
        Assert.True(get.Found);
        Assert.Equal("red", get.Value.ToStringUtf8());
        Assert.Equal(put.Version, get.Version);

        var second = await PutAsync("apple", "green");
        Assert.True(Compare(second.Version, put.Version) > 0, "a later write gets a later version");
        Assert.Equal("green", (await GetAsync("apple")).Value.ToStringUtf8());
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_OfAKeyNeverWritten_IsNotFound()
    {
        var get = await GetAsync("nothing-here");
        Assert.False(get.Found);
        Assert.True(get.Value.IsEmpty);
        Assert.Null(get.Version);
    }

    [Fact(Timeout = 30_000)]
    public async Task Delete_ReportsWhetherTheKeyExisted_AndTheKeyIsGone()
    {
        await PutAsync("doomed", "x");
        var first = await Client.DeleteAsync(new Wire.DeleteRequest { Key = B("doomed") }, deadline: KvTestServer.Deadline());
        Assert.True(first.Found);
        Assert.False((await GetAsync("doomed")).Found);
        var second = await Client.DeleteAsync(new Wire.DeleteRequest { Key = B("doomed") }, deadline: KvTestServer.Deadline());
        Assert.False(second.Found);
    }

    [Fact(Timeout = 30_000)]
    public async Task CompareAndSet_ExpectAbsent_SucceedsOnce_ThenFailsWithTheCurrentValue()
    {
        var created = await CasAsync(new Wire.CompareAndSetRequest { Key = B("lock"), ExpectAbsent = true, NewValue = B("owner-a") });
        Assert.True(created.Succeeded);
        Assert.False(created.Found);
        Assert.NotNull(created.NewVersion);

        var refused = await CasAsync(new Wire.CompareAndSetRequest { Key = B("lock"), ExpectAbsent = true, NewValue = B("owner-b") });
        Assert.False(refused.Succeeded);
        Assert.True(refused.Found);
        Assert.Equal("owner-a", refused.CurrentValue.ToStringUtf8());
        Assert.Equal(created.NewVersion, refused.CurrentVersion);
        Assert.Null(refused.NewVersion);
        Assert.Equal("owner-a", (await GetAsync("lock")).Value.ToStringUtf8());
    }

    [Fact(Timeout = 30_000)]
    public async Task CompareAndSet_ExpectedVersion_SucceedsOnTheCurrentVersion_FailsOnAnOlderOne()
    {
        var v1 = (await PutAsync("counter", "1")).Version;
        var ok = await CasAsync(new Wire.CompareAndSetRequest { Key = B("counter"), ExpectedVersion = v1, NewValue = B("2") });
        Assert.True(ok.Succeeded);
        Assert.True(ok.Found);

        var stale = await CasAsync(new Wire.CompareAndSetRequest { Key = B("counter"), ExpectedVersion = v1, NewValue = B("3") });
        Assert.False(stale.Succeeded);
        Assert.Equal("2", stale.CurrentValue.ToStringUtf8());
        Assert.Equal(ok.NewVersion, stale.CurrentVersion);

        var absent = await CasAsync(new Wire.CompareAndSetRequest { Key = B("counter-absent"), ExpectedVersion = v1, NewValue = B("x") });
        Assert.False(absent.Succeeded);
        Assert.False(absent.Found);
        Assert.Null(absent.CurrentVersion);
    }

    [Fact(Timeout = 30_000)]
    public async Task CompareAndSet_ExpectedValue_SucceedsOnAMatch_FailsOnAMismatch()
    {
        await PutAsync("color", "blue");
        var mismatch = await CasAsync(new Wire.CompareAndSetRequest { Key = B("color"), ExpectedValue = B("red"), NewValue = B("green") });
        Assert.False(mismatch.Succeeded);
        Assert.Equal("blue", mismatch.CurrentValue.ToStringUtf8());

        var match = await CasAsync(new Wire.CompareAndSetRequest { Key = B("color"), ExpectedValue = B("blue"), NewValue = B("green") });
        Assert.True(match.Succeeded);
        var get = await GetAsync("color");
        Assert.Equal("green", get.Value.ToStringUtf8());
        Assert.Equal(match.NewVersion, get.Version);
    }

    [Fact(Timeout = 30_000)]
    public async Task CompareAndSet_WithoutNewValue_DeletesWhenTheConditionHolds()
    {
        await PutAsync("temp", "v");
        var deleted = await CasAsync(new Wire.CompareAndSetRequest { Key = B("temp"), ExpectedValue = B("v") });
        Assert.True(deleted.Succeeded);
        Assert.True(deleted.Found);
        Assert.False((await GetAsync("temp")).Found);
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_Forward_ReturnsKeysInOrder_WithinBounds_WithVersions()
    {
        var versions = new Dictionary<string, Wire.Timestamp>();
        foreach (var k in new[] { "s/c", "s/a", "s/e", "s/b", "s/d", "t/z" }) versions[k] = (await PutAsync(k, "v-" + k)).Version;
        await Client.DeleteAsync(new Wire.DeleteRequest { Key = B("s/d") }, deadline: KvTestServer.Deadline());

        var page = await ScanAsync(new Wire.ScanRequest { StartKey = B("s/"), EndKey = B("s0") });
        Assert.Equal(["s/a", "s/b", "s/c", "s/e"], page.Entries.Select(e => e.Key.ToStringUtf8()));
        Assert.All(page.Entries, e => Assert.Equal("v-" + e.Key.ToStringUtf8(), e.Value.ToStringUtf8()));
        Assert.All(page.Entries, e => Assert.Equal(versions[e.Key.ToStringUtf8()], e.Version));
        Assert.True(page.ResumeKey.IsEmpty, "the range holds every key, so a scan that fits one page is complete");

        var open = await ScanAsync(new Wire.ScanRequest { StartKey = B("s/c") });
        Assert.Equal(["s/c", "s/e", "t/z"], open.Entries.Select(e => e.Key.ToStringUtf8()));
        Assert.True(open.ResumeKey.IsEmpty);
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_Reverse_ReturnsKeysInDescendingOrder()
    {
        foreach (var k in new[] { "r/1", "r/2", "r/3", "r/4" }) await PutAsync(k, k);
        var page = await ScanAsync(new Wire.ScanRequest { StartKey = B("r/2"), EndKey = B("r/4"), Reverse = true });
        Assert.Equal(["r/3", "r/2"], page.Entries.Select(e => e.Key.ToStringUtf8()));
        Assert.True(page.ResumeKey.IsEmpty);
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_PagesByLimit_FollowingResumeKeys_SeesEveryKeyOnce_ForwardAndReverse()
    {
        var keys = Enumerable.Range(0, 23).Select(i => $"p/{i:D2}").ToList();
        foreach (var k in keys) await PutAsync(k, k);

        var forward = new List<string>();
        var request = new Wire.ScanRequest { StartKey = B("p/"), EndKey = B("p0"), Limit = 5 };
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages < 10, "paging does not end");
            var page = await ScanAsync(request);
            Assert.True(page.Entries.Count <= 5);
            forward.AddRange(page.Entries.Select(e => e.Key.ToStringUtf8()));
            if (page.ResumeKey.IsEmpty) break;
            request.StartKey = page.ResumeKey;
        }
        Assert.Equal(keys, forward);

        var reverse = new List<string>();
        request = new Wire.ScanRequest { StartKey = B("p/"), EndKey = B("p0"), Limit = 4, Reverse = true };
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages < 10, "paging does not end");
            var page = await ScanAsync(request);
            Assert.True(page.Entries.Count <= 4);
            reverse.AddRange(page.Entries.Select(e => e.Key.ToStringUtf8()));
            if (page.ResumeKey.IsEmpty) break;
            request.EndKey = page.ResumeKey;
        }
        keys.Reverse();
        Assert.Equal(keys, reverse);
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_WithLimit_ReturnsAFullPageAndAResumeKeyRightAfterItsLastKey()
    {
        foreach (var k in new[] { "l/a", "l/b", "l/c" }) await PutAsync(k, k);
        var page = await ScanAsync(new Wire.ScanRequest { StartKey = B("l/"), EndKey = B("l0"), Limit = 2 });
        Assert.Equal(["l/a", "l/b"], page.Entries.Select(e => e.Key.ToStringUtf8()));
        Assert.Equal([.. "l/b"u8, 0], page.ResumeKey.ToByteArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task Batch_AppliesOperationsInOrder_AndAnswersEach()
    {
        await PutAsync("b/old", "1");
        var response = await Client.BatchAsync(new Wire.BatchRequest
        {
            Operations =
            {
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("b/new"), Value = B("2") } },
                new Wire.BatchOperation { Get = new Wire.GetRequest { Key = B("b/new") } },
                new Wire.BatchOperation { Delete = new Wire.DeleteRequest { Key = B("b/old") } },
                new Wire.BatchOperation { Get = new Wire.GetRequest { Key = B("b/old") } },
                new Wire.BatchOperation { Delete = new Wire.DeleteRequest { Key = B("b/never") } },
            },
        }, deadline: KvTestServer.Deadline());
        Assert.Equal(5, response.Results.Count);
        Assert.NotNull(response.Results[0].Put.Version);
        Assert.True(response.Results[1].Get.Found);
        Assert.Equal("2", response.Results[1].Get.Value.ToStringUtf8());
        Assert.Equal(response.Results[0].Put.Version, response.Results[1].Get.Version);
        Assert.True(response.Results[2].Delete.Found);
        Assert.False(response.Results[3].Get.Found);
        Assert.False(response.Results[4].Delete.Found);

        var empty = await Client.BatchAsync(new Wire.BatchRequest(), deadline: KvTestServer.Deadline());
        Assert.Empty(empty.Results);
    }

    [Fact(Timeout = 30_000)]
    public async Task Batch_WithAnInvalidOperation_IsRejectedWhole_BeforeAnythingApplies()
    {
        await KvAssert.InvalidArgumentAsync("operations[1].put.key", async () => await Client.BatchAsync(new Wire.BatchRequest
        {
            Operations =
            {
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("bi/first"), Value = B("1") } },
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = ByteString.Empty, Value = B("2") } },
            },
        }, deadline: KvTestServer.Deadline()));
        Assert.False((await GetAsync("bi/first")).Found);
    }

    [Fact(Timeout = 30_000)]
    public async Task RetriedPut_WithTheSameWriteId_AppliesOnce_AndGetsTheFirstAnswer()
    {
        var first = await PutAsync("idem", "first", Id(7, 1));
        var other = await PutAsync("idem", "second", Id(8, 1));
        Assert.True(Compare(other.Version, first.Version) > 0);

        var retry = await PutAsync("idem", "first", Id(7, 1));
        Assert.Equal(first, retry);
        var get = await GetAsync("idem");
        Assert.Equal("second", get.Value.ToStringUtf8());
        Assert.Equal(other.Version, get.Version);
    }

    [Fact(Timeout = 30_000)]
    public async Task Write_WithAnOlderSequenceThanOneApplied_IsFailedPrecondition()
    {
        await PutAsync("seq", "2", Id(9, 2));
        var status = await KvAssert.FailsWithAsync(StatusCode.FailedPrecondition, () => PutAsync("seq", "1", Id(9, 1)));
        Assert.Contains("sequence", status.Message, StringComparison.Ordinal);
        Assert.Equal("2", (await GetAsync("seq")).Value.ToStringUtf8());
    }

    [Fact(Timeout = 30_000)]
    public async Task ConcurrentWrites_WithoutWriteIds_EachGetTheirOwnAnswer()
    {
        var puts = Enumerable.Range(0, 40).Select(i => PutAsync($"anon/{i:D2}", $"v{i}")).ToArray();
        var responses = await Task.WhenAll(puts);
        Assert.Equal(40, responses.Select(r => (r.Version.WallNanos, r.Version.Logical)).Distinct().Count());
        for (int i = 0; i < 40; i++)
        {
            var get = await GetAsync($"anon/{i:D2}");
            Assert.Equal($"v{i}", get.Value.ToStringUtf8());
            Assert.Equal(responses[i].Version, get.Version);
        }
        var cas = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            CasAsync(new Wire.CompareAndSetRequest { Key = B("anon/race"), ExpectAbsent = true, NewValue = B("won") })));
        Assert.Single(cas, c => c.Succeeded);
    }

    [Fact(Timeout = 60_000)]
    public async Task MaxSizeKeyAndValue_AreAccepted_AndReadBack()
    {
        var key = new byte[_server.NodeOptions.KeyBytesMax];
        Array.Fill(key, (byte)'k');
        var value = new byte[_server.NodeOptions.ValueBytesMax];
        new Random(42).NextBytes(value);
        var put = await Client.PutAsync(new Wire.PutRequest { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(value) },
            deadline: KvTestServer.Deadline(30));
        var get = await Client.GetAsync(new Wire.GetRequest { Key = ByteString.CopyFrom(key) }, deadline: KvTestServer.Deadline(30));
        Assert.True(get.Found);
        Assert.Equal(put.Version, get.Version);
        Assert.True(get.Value.Span.SequenceEqual(value));

        // A scan bound may be one byte longer than a key: the resume key after a maximal key.
        var page = await ScanAsync(new Wire.ScanRequest { StartKey = ByteString.CopyFrom(key), Limit = 1 });
        Assert.Single(page.Entries);
        Assert.Equal(key.Length + 1, page.ResumeKey.Length);
        var next = await ScanAsync(new Wire.ScanRequest { StartKey = page.ResumeKey, Limit = 1 });
        Assert.Empty(next.Entries);
    }

    [Fact(Timeout = 30_000)]
    public async Task SnapshotReads_SeeTheValueAsOfTheirTimestamp_AndAFutureOneIsRefused()
    {
        var first = await Client.PutAsync(new Wire.PutRequest { Key = B("snap"), Value = B("v1") }, deadline: KvTestServer.Deadline());
        var second = await Client.PutAsync(new Wire.PutRequest { Key = B("snap"), Value = B("v2") }, deadline: KvTestServer.Deadline());
        var atFirst = await Client.GetAsync(new Wire.GetRequest { Key = B("snap"), Consistency = Wire.ReadConsistency.Snapshot, ReadTimestamp = first.Version },
            deadline: KvTestServer.Deadline());
        Assert.Equal("v1", atFirst.Value.ToStringUtf8());
        var atSecond = await Client.GetAsync(new Wire.GetRequest { Key = B("snap"), Consistency = Wire.ReadConsistency.Snapshot, ReadTimestamp = second.Version },
            deadline: KvTestServer.Deadline());
        Assert.Equal("v2", atSecond.Value.ToStringUtf8());

        var page = await ScanAsync(new Wire.ScanRequest { StartKey = B("snap"), EndKey = B("snaq"), Consistency = Wire.ReadConsistency.Snapshot, ReadTimestamp = first.Version });
        Assert.Equal("v1", Assert.Single(page.Entries).Value.ToStringUtf8());
        Assert.Equal(first.Version, page.ReadTimestamp);
        // Unset: the node picks now and says so.
        var now = await ScanAsync(new Wire.ScanRequest { StartKey = B("snap"), EndKey = B("snaq"), Consistency = Wire.ReadConsistency.Snapshot });
        Assert.True(Compare(now.ReadTimestamp, second.Version) > 0);

        // A write after the snapshot lands above it, so the snapshot stays as it was read.
        await Client.PutAsync(new Wire.PutRequest { Key = B("snap"), Value = B("v3") }, deadline: KvTestServer.Deadline());
        var again = await Client.GetAsync(new Wire.GetRequest { Key = B("snap"), Consistency = Wire.ReadConsistency.Snapshot, ReadTimestamp = now.ReadTimestamp },
            deadline: KvTestServer.Deadline());
        Assert.Equal("v2", again.Value.ToStringUtf8());

        var future = new Wire.Timestamp { WallNanos = now.ReadTimestamp.WallNanos + (long)TimeSpan.FromDays(1).TotalNanoseconds };
        await KvAssert.FailsWithAsync(StatusCode.InvalidArgument, async () =>
            await Client.GetAsync(new Wire.GetRequest { Key = B("snap"), Consistency = Wire.ReadConsistency.Snapshot, ReadTimestamp = future },
                deadline: KvTestServer.Deadline()));
    }

    private static int Compare(Wire.Timestamp a, Wire.Timestamp b) =>
        a.WallNanos != b.WallNanos ? a.WallNanos.CompareTo(b.WallNanos) : a.Logical.CompareTo(b.Logical);
}
