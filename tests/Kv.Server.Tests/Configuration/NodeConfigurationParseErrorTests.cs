using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>Values that do not parse, and bad flags: reported all at once, naming the source to fix.</summary>
public sealed class NodeConfigurationParseErrorTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void NotANumber_NamesTheEnvironmentVariable()
    {
        var e = Assert.Throws<NodeOptionsException>(
            () => NodeConfiguration.Load([], new Dictionary<string, string> { ["KV_NODE_ID"] = "two" }, null));

        Assert.Equal(
            "NodeId: 'two' from environment variable KV_NODE_ID is not a whole number (set with --node-id, KV_NODE_ID or Kv:NodeId).",
            Assert.Single(e.Problems));
    }

    [Fact]
    public void NotANumber_NamesTheFlag()
    {
        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load(["--key-bytes-max", "4KiB"], NoEnvironment, null));

        Assert.StartsWith("KeyBytesMax: '4KiB' from flag --key-bytes-max is not a whole number", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void NotANumber_NamesTheAppSettingsFile()
    {
        using var file = new TempAppSettings("""{ "Kv": { "ClockDriftBound": "ten percent" } }""");

        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load([], NoEnvironment, file.Path));

        Assert.StartsWith($"ClockDriftBound: 'ten percent' from {file.Path} key Kv:ClockDriftBound is not a number", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a url", "Listen: 'not a url' from flag --listen is not an absolute URL")]
    [InlineData("127.0.0.1:7100x", "Listen: '127.0.0.1:7100x' from flag --listen is not an absolute URL")]
    public void BadUrl(string url, string expected)
    {
        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load(["--listen", url], NoEnvironment, null));

        Assert.StartsWith(expected, Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1=http://a:7100,http://b:7100", "Peers: 'http://b:7100' from flag --peers is not id=url")]
    [InlineData("1=http://a:7100,x=http://b:7100", "Peers: 'x=http://b:7100' from flag --peers is not id=url")]
    [InlineData("1=http://a:7100,2=b", "Peers: 'b' from flag --peers is not an absolute URL")]
    public void BadPeerEntry(string peers, string expected)
    {
        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load(["--peers", peers], NoEnvironment, null));

        Assert.StartsWith(expected, Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFlag_MissingValue_AndStrayWord_AreAllReported()
    {
        var e = Assert.Throws<NodeOptionsException>(
            () => NodeConfiguration.Load(["--node-di", "3", "stray", "--data-dir"], NoEnvironment, null));

        Assert.Equal(3, e.Problems.Count);
        Assert.StartsWith("Unknown flag --node-di; the flags are --node-id, --node-ordinal, --data-dir", e.Problems[0], StringComparison.Ordinal);
        Assert.StartsWith("Unexpected argument 'stray'", e.Problems[1], StringComparison.Ordinal);
        Assert.Equal("Flag --data-dir needs a value.", e.Problems[2]);
    }

    [Fact]
    public void SeveralBadValues_AreAllReported()
    {
        var environment = new Dictionary<string, string> { ["KV_TICK_INTERVAL_MS"] = "fast", ["KV_VALUE_BYTES_MAX"] = "big" };

        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load([], environment, null));

        Assert.Equal(2, e.Problems.Count);
    }

    [Fact]
    public void MalformedAppSettings_IsReportedWithItsPath()
    {
        using var file = new TempAppSettings("""{ "Kv": { "NodeId": 1, } oops""");

        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load([], NoEnvironment, file.Path));

        Assert.StartsWith(file.Path, Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void NodeIdAndOrdinalBothSet_IsAProblem()
    {
        var environment = new Dictionary<string, string> { ["KV_NODE_ORDINAL"] = "0" };

        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load(["--node-id", "1"], environment, null));

        Assert.Equal(
            "NodeId (from flag --node-id) and NodeOrdinal (from environment variable KV_NODE_ORDINAL) are both set; set one.",
            Assert.Single(e.Problems));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("kv-")]
    [InlineData("kv-x")]
    public void BadOrdinal(string ordinal)
    {
        var e = Assert.Throws<NodeOptionsException>(
            () => NodeConfiguration.Load([], new Dictionary<string, string> { ["KV_NODE_ORDINAL"] = ordinal }, null));

        Assert.StartsWith($"NodeOrdinal: '{ordinal}' from environment variable KV_NODE_ORDINAL is neither", Assert.Single(e.Problems), StringComparison.Ordinal);
    }
}
