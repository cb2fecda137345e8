using Google.Protobuf;
using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>The Bundle RPC: independent operations in one call, each run and answered as its own call would be.</summary>
public sealed class KvBundleTests : IAsyncLifetime
{
    private KvTestServer _server = null!;

    private Wire.Kv.KvClient Client => _server.Client;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static Wire.BatchOperation Put(string key, string value, ulong client = 0, ulong sequence = 0) => new()
    {
        Put = new Wire.PutRequest { Key = B(key), Value = B(value), WriteId = client == 0 ? null : new Wire.WriteId { ClientId = client, Sequence = sequence } },
    };

    [Fact(Timeout = 30_000)]
    public async Task EachOperationIsAnsweredOnItsOwn_AndAnInvalidOneFailsAlone()
    {
        await Client.PutAsync(new Wire.PutRequest { Key = B("u/kept"), Value = B("k") }, deadline: KvTestServer.Deadline());
        var response = await Client.BundleAsync(new Wire.BundleRequest
        {
            Operations =
            {
                Put("u/a", "1", client: 7, sequence: 1),
                Put("u/b", "2", client: 8, sequence: 1),
                new Wire.BatchOperation { Get = new Wire.GetRequest { Key = B("u/kept") } },
                Put("", "3"),
                new Wire.BatchOperation { Delete = new Wire.DeleteRequest { Key = B("u/never") } },
                new Wire.BatchOperation(),
            },
        }, deadline: KvTestServer.Deadline());

        Assert.Equal(6, response.Results.Count);
        Assert.NotNull(response.Results[0].Put.Version);
        Assert.NotNull(response.Results[1].Put.Version);
        Assert.Equal("k", response.Results[2].Get.Value.ToStringUtf8());
        AssertInvalid(response.Results[3], "operations[3].put.key");
        Assert.False(response.Results[4].Delete.Found);
        AssertInvalid(response.Results[5], "operations[5]");
        foreach (var (key, value) in new[] { ("u/a", "1"), ("u/b", "2") })
        {
            var get = await Client.GetAsync(new Wire.GetRequest { Key = B(key) }, deadline: KvTestServer.Deadline());
            Assert.Equal(value, get.Value.ToStringUtf8());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ARetriedBundle_AppliesEachWriteOnce_AndAnswersAsTheFirstTime()
    {
        var request = new Wire.BundleRequest { Operations = { Put("r/a", "1", client: 21, sequence: 5), Put("r/b", "1", client: 22, sequence: 5) } };
        var first = await Client.BundleAsync(request, deadline: KvTestServer.Deadline());
        await Client.PutAsync(new Wire.PutRequest { Key = B("r/a"), Value = B("later") }, deadline: KvTestServer.Deadline());

        var again = await Client.BundleAsync(request, deadline: KvTestServer.Deadline());

        Assert.Equal(first.Results[0].Put.Version, again.Results[0].Put.Version);
        Assert.Equal(first.Results[1].Put.Version, again.Results[1].Put.Version);
        var a = await Client.GetAsync(new Wire.GetRequest { Key = B("r/a") }, deadline: KvTestServer.Deadline());
        Assert.Equal("later", a.Value.ToStringUtf8()); // the retry did not write "1" over it
    }

    [Fact(Timeout = 30_000)]
    public async Task TooManyOperations_FailTheWholeCall()
    {
        var request = new Wire.BundleRequest();
        for (int i = 0; i < 1_001; i++) request.Operations.Add(Put($"t/{i}", "x"));
        await KvAssert.InvalidArgumentAsync("operations", async () => await Client.BundleAsync(request, deadline: KvTestServer.Deadline()));
        var get = await Client.GetAsync(new Wire.GetRequest { Key = B("t/0") }, deadline: KvTestServer.Deadline());
        Assert.False(get.Found);
    }

    private static void AssertInvalid(Wire.BundleResult result, string field)
    {
        Assert.Equal(Wire.BundleResult.OutcomeOneofCase.Error, result.OutcomeCase);
        Assert.Equal((int)StatusCode.InvalidArgument, result.Error.Code);
        var detail = result.Error.Details.Single().Unpack<Wire.InvalidArgument>();
        Assert.Equal(field, detail.Field);
        Assert.Contains(field, result.Error.Message);
    }
}
