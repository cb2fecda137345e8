using Microsoft.Extensions.Configuration;

namespace Kv.Server.Configuration;

/// <summary>
/// Settings taken from the KV_ environment variables or the command-line flags, already mapped to their "Kv:..."
/// paths. It remembers where each value came from, so that an error names the variable or flag to fix, and keeps
/// the problems found while reading its source (an unknown flag) until the options are bound.
/// </summary>
internal sealed class MappedSettingsSource(
    IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, string> origins, IReadOnlyList<string> problems)
    : IConfigurationSource
{
    /// <summary>The values and origins of the KV_ variables in <paramref name="environment"/>; other variables are ignored.</summary>
    public static MappedSettingsSource FromEnvironment(IReadOnlyDictionary<string, string> environment)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var origins = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (NodeSetting setting in NodeSettings.All)
        {
            if (!environment.TryGetValue(setting.EnvironmentVariable, out string? value)) continue;
            values[setting.ConfigurationPath] = value;
            origins[setting.ConfigurationPath] = $"environment variable {setting.EnvironmentVariable}";
        }
        return new MappedSettingsSource(values, origins, []);
    }

    /// <summary>The values and origins of the flags in <paramref name="args"/>; see <see cref="CommandLineFlags"/>.</summary>
    public static MappedSettingsSource FromFlags(IReadOnlyList<string> args)
    {
        CommandLineFlags parsed = CommandLineFlags.Parse(args);
        var origins = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (NodeSetting setting in NodeSettings.All)
            origins[setting.ConfigurationPath] = $"flag {setting.Flag}";
        return new MappedSettingsSource(parsed.Values, origins, parsed.Problems);
    }

    /// <inheritdoc />
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(values, origins, problems);

    /// <summary>Serves the mapped values; <see cref="NodeConfiguration.Bind"/> asks it for origins and problems.</summary>
    internal sealed class Provider(
        IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, string> origins, IReadOnlyList<string> problems)
        : ConfigurationProvider
    {
        public IReadOnlyList<string> Problems { get; } = problems;

        public string? OriginOf(string path) => origins.GetValueOrDefault(path);

        public override void Load()
        {
            Data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach ((string path, string value) in values) Data[path] = value;
        }
    }
}
