using System.Text.Json;
using Kv.Admin.App;

namespace Kv.Admin.Tests;

/// <summary>get, put, delete and scan against a real in-process 3-node cluster.</summary>
[Collection(AdminClusterCollection.Name)]
public sealed class DataCommandTests(AdminClusterFixture fixture)
{
    private Task<KvctlResult> Run(params string[] args) => Kvctl.RunAsync([.. args, "--endpoints", fixture.Endpoints]);

    [Fact]
    public async Task PutGetDeleteScan_RoundTrip()
    {
        var put = await Run("put", "data/alpha", "one");
        Assert.True(put.ExitCode == ExitCodes.Ok, put.ToString());
        Assert.Contains("OK data/alpha", put.Out);
        Assert.Equal(ExitCodes.Ok, (await Run("put", "data/beta", "two")).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await Run("put", "datb", "outside the prefix")).ExitCode);

        var raw = await Run("get", "data/alpha", "--output", "raw");
        Assert.Equal(ExitCodes.Ok, raw.ExitCode);
        Assert.Equal("one\n", raw.Out);

        var json = await Run("get", "data/beta", "-o", "json");
        using (var doc = JsonDocument.Parse(json.Out))
        {
            Assert.Equal("data/beta", doc.RootElement.GetProperty("key").GetString());
            Assert.True(doc.RootElement.GetProperty("found").GetBoolean());
            Assert.Equal("two", doc.RootElement.GetProperty("value").GetString());
            Assert.True(doc.RootElement.GetProperty("version").GetProperty("wall_nanos").GetInt64() > 0);
        }

        var scan = await Run("scan", "--prefix", "data/", "-o", "raw");
        Assert.Equal(ExitCodes.Ok, scan.ExitCode);
        Assert.Equal("data/alpha\tone\ndata/beta\ttwo\n", scan.Out);
        var reverse = await Run("scan", "--from", "data/", "--to", "datc", "--reverse", "--limit", "2", "-o", "json");
        using (var doc = JsonDocument.Parse(reverse.Out))
        {
            var keys = doc.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("key").GetString()!).ToArray();
            Assert.Equal(["datb", "data/beta"], keys);
            Assert.True(doc.RootElement.GetProperty("more").GetBoolean());
        }

        var delete = await Run("delete", "data/alpha", "-o", "json");
        using (var doc = JsonDocument.Parse(delete.Out)) Assert.True(doc.RootElement.GetProperty("deleted").GetBoolean());
        var missing = await Run("get", "data/alpha", "-o", "raw");
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Equal("", missing.Out);
        Assert.Contains("not found", missing.Error);
        var again = await Run("delete", "data/alpha", "-o", "json");
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
        using (var doc = JsonDocument.Parse(again.Out)) Assert.False(doc.RootElement.GetProperty("deleted").GetBoolean());
    }

    [Fact]
    public async Task HexEncoding_WritesAndReadsBinaryKeysAndValues()
    {
        var put = await Run("put", "00ff10", "cafe", "--encoding", "hex");
        Assert.True(put.ExitCode == ExitCodes.Ok, put.ToString());
        Assert.Equal("cafe\n", (await Run("get", "00ff10", "--encoding", "hex", "-o", "raw")).Out);
        // The same bytes in base64: key AP8Q, value yv4=.
        Assert.Equal("yv4=\n", (await Run("get", "AP8Q", "--encoding", "base64", "-o", "raw")).Out);
        // A table never prints raw control bytes: the key shows as hex.
        var table = await Run("scan", "--prefix", "00ff", "--encoding", "hex");
        Assert.Contains("0x00ff10", table.Out);
    }

    [Fact]
    public async Task Endpoints_ComeFromTheEnvironmentWhenNotGiven()
    {
        Assert.Equal(ExitCodes.Ok, (await Run("put", "env/key", "from-env")).ExitCode);
        var result = await Kvctl.RunAsync(["get", "env/key", "-o", "raw"], "",
            new Dictionary<string, string> { [GlobalOptions.EndpointsVariable] = fixture.Endpoints });
        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Equal("from-env\n", result.Out);
    }
}
