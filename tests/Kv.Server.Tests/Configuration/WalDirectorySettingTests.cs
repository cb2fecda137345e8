using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>WalDirectory (--wal-dir, KV_WAL_DIR): optional, unset by default, read from every source like DataDirectory.</summary>
public sealed class WalDirectorySettingTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void Unset_KeepsTheWalInTheDataDirectory()
    {
        NodeOptions options = NodeConfiguration.Load([], NoEnvironment, appSettingsPath: null);

        Assert.Null(options.WalDirectory);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void EachSource_SetsIt_FlagsOverEnvironmentOverAppSettings()
    {
        using var file = new TempAppSettings("""{ "Kv": { "WalDirectory": "/from/json" } }""");
        var environment = new Dictionary<string, string> { ["KV_WAL_DIR"] = "/from/env" };

        Assert.Equal("/from/json", NodeConfiguration.Load([], NoEnvironment, file.Path).WalDirectory);
        Assert.Equal("/from/env", NodeConfiguration.Load([], environment, file.Path).WalDirectory);
        Assert.Equal("/from/flag", NodeConfiguration.Load(["--wal-dir", "/from/flag"], environment, file.Path).WalDirectory);
        Assert.Equal("/from/flag", NodeConfiguration.Load(["--wal-dir=/from/flag"], environment, file.Path).WalDirectory);
    }

    [Fact]
    public void EmptyValue_IsUnset_ButBlankIsAProblem()
    {
        Assert.Null(NodeConfiguration.Load(["--wal-dir="], NoEnvironment, null).WalDirectory);

        var problem = Assert.Single(new NodeOptions { WalDirectory = "  " }.Validate());
        Assert.StartsWith("WalDirectory: must not be blank", problem, StringComparison.Ordinal);
        Assert.Contains("--wal-dir, KV_WAL_DIR or Kv:WalDirectory", problem, StringComparison.Ordinal);
    }
}
