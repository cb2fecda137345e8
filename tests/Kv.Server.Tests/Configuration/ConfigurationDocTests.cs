using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>docs/configuration.md documents every setting under all three of its names, and its default.</summary>
public sealed class ConfigurationDocTests
{
    [Fact]
    public void EverySetting_HasARowWithItsKeyFlagAndEnvironmentVariable()
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), "docs", "configuration.md"));

        Assert.All(NodeSettings.All, setting =>
        {
            string? row = lines.FirstOrDefault(l => l.StartsWith($"| `{setting.Key}` |", StringComparison.Ordinal));
            Assert.True(row is not null, $"docs/configuration.md has no table row for {setting.Key}");
            Assert.Contains($"`{setting.Flag}`", row, StringComparison.Ordinal);
            Assert.Contains($"`{setting.EnvironmentVariable}`", row, StringComparison.Ordinal);
        });
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kv.sln"))) return dir.FullName;
        throw new InvalidOperationException("kv.sln not found above " + AppContext.BaseDirectory);
    }
}
