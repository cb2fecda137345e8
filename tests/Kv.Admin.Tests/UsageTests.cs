using System.Text.Json;
using Kv.Admin.App;
using Kv.Admin.Cluster;
using Kv.Admin.Output;

namespace Kv.Admin.Tests;

/// <summary>Command lines that are wrong fail with exit code 2 and say why, before any node is contacted.</summary>
public sealed class UsageTests
{
    // Nothing listens here: a test that reached the network would fail with exit code 1, not 2.
    private const string Nowhere = "http://127.0.0.1:9";

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("get")]
    [InlineData("put", "only-a-key")]
    [InlineData("get", "k", "--output", "xml")]
    [InlineData("get", "k", "--encoding", "rot13")]
    [InlineData("get", "zz", "--encoding", "hex")]
    [InlineData("get", "not base64!", "--encoding", "base64")]
    [InlineData("scan", "--prefix", "a", "--from", "b")]
    [InlineData("scan", "--from", "b", "--to", "a")]
    [InlineData("scan", "--limit", "-1")]
    [InlineData("leader", "transfer", "two", "1")]
    [InlineData("get", "k", "--timeout", "0")]
    [InlineData("get", "k", "--endpoints", "ftp://host:1")]
    [InlineData("split", "")]
    public async Task BadUsage_ExitsWith2_AndExplains(params string[] args)
    {
        var result = await Kvctl.RunAsync([.. args, .. args.Contains("--endpoints") ? Array.Empty<string>() : ["--endpoints", Nowhere]], "", null);
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.StartsWith("kvctl", result.Error);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Help_ListsEveryCommandGroup_AndExitsWith0()
    {
        var result = await Kvctl.RunAsync("--help");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        foreach (var command in new[] { "status", "ranges", "split", "leader", "members", "get", "put", "delete", "scan", "shell" })
            Assert.Contains("  " + command, result.Out);
    }

    [Fact]
    public async Task EndpointsVariable_IsValidatedLikeTheOption()
    {
        var result = await Kvctl.RunAsync(["status"], "", new Dictionary<string, string> { [GlobalOptions.EndpointsVariable] = "127.0.0.1:7101" });
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("KV_ENDPOINTS: '127.0.0.1:7101' is not an http(s) URL", result.Error);
    }

    [Fact]
    public void Endpoints_DefaultToTheDevCluster()
    {
        var app = new KvctlApp(new Terminal(TextReader.Null, TextWriter.Null, TextWriter.Null, null, false, 80), _ => null);
        var settings = app.Options.Resolve(app.Root.Parse(["status"]), null, _ => null);
        Assert.Equal(["http://127.0.0.1:7101/", "http://127.0.0.1:7102/", "http://127.0.0.1:7103/"], settings.Endpoints.Select(e => e.ToString()));
        Assert.Equal(OutputFormat.Table, settings.Output);
    }

    [Fact]
    public void JsonShape_OfANode_IsSnakeCase_WithNullsWritten()
    {
        var json = JsonSerializer.Serialize(new NodeReport(3, "http://h:1", false, "timed out", null, null, null, null, null, null), Renderer.JsonOptions);
        Assert.Equal(
            """{"node_id":3,"endpoint":"http://h:1","up":false,"error":"timed out","version":null,"uptime_ms":null,"data_directory":null,"data_directory_bytes":null,"replicas":null,"leading":null}""",
            JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement));
    }

    [Fact]
    public void RawOutput_IsTabSeparatedRowsWithoutHeader_TableHasHeaderAndFooter()
    {
        var view = new TableView(["A", "B"], [["1", "x y"], ["2", ""]], "2 rows", RawRows: [["1", "x y"], ["2", "-"]]);
        var raw = new StringWriter();
        new Renderer(new Terminal(TextReader.Null, raw, TextWriter.Null, null, false, 80), OutputFormat.Raw).Write(new { }, view);
        Assert.Equal("1\tx y\n2\t-\n", raw.ToString());
        var table = new StringWriter();
        new Renderer(new Terminal(TextReader.Null, table, TextWriter.Null, null, false, 80), OutputFormat.Table).Write(new { }, view);
        Assert.Contains("│ A │ B   │", table.ToString());
        Assert.EndsWith("2 rows\n", table.ToString());
    }
}
