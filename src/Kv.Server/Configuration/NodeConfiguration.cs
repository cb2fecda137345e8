using System.Collections;
using Microsoft.Extensions.Configuration;

namespace Kv.Server.Configuration;

/// <summary>
/// Builds <see cref="NodeOptions"/> from, in increasing precedence: the "Kv" section of appsettings.json, the KV_
/// environment variables, and the command-line flags (docs/configuration.md lists them all).
/// </summary>
public static class NodeConfiguration
{
    /// <summary>The appsettings.json section that holds the node's settings.</summary>
    public const string SectionName = "Kv";

    /// <summary>
    /// Adds the KV_ environment variables and then the flags, above the sources already in
    /// <paramref name="builder"/> (appsettings.json in a web host). Environment and arguments are passed in, not read
    /// from the process, so that tests need not change the process's state.
    /// </summary>
    public static IConfigurationBuilder AddKvSources(
        this IConfigurationBuilder builder, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(MappedSettingsSource.FromEnvironment(environment));
        builder.Add(MappedSettingsSource.FromFlags(args));
        return builder;
    }

    /// <summary>
    /// Reads and validates the options in <paramref name="configuration"/>; throws a
    /// <see cref="NodeOptionsException"/> listing every problem (unknown flags, values that do not parse, invalid
    /// settings).
    /// </summary>
    public static NodeOptions Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        if (configuration is IConfigurationRoot root)
            foreach (MappedSettingsSource.Provider provider in root.Providers.OfType<MappedSettingsSource.Provider>())
                problems.AddRange(provider.Problems);
        NodeOptions options = new NodeOptionsReader(configuration, problems).Read();
        // Validating values that failed to parse would report their defaults, which only confuses.
        if (problems.Count == 0) problems.AddRange(options.Validate());
        return problems.Count == 0 ? options : throw new NodeOptionsException(problems);
    }

    /// <summary>
    /// Loads the options from <paramref name="appSettingsPath"/> (optional file; null for none), the given
    /// environment and the flags.
    /// </summary>
    public static NodeOptions Load(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string? appSettingsPath)
    {
        var builder = new ConfigurationBuilder();
        if (appSettingsPath is not null) builder.AddJsonFile(Path.GetFullPath(appSettingsPath), optional: true, reloadOnChange: false);
        builder.AddKvSources(environment, args);
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (InvalidDataException e)
        {
            throw new NodeOptionsException([$"{appSettingsPath}: {e.Message} {e.InnerException?.Message}".TrimEnd()]);
        }
        try
        {
            return Bind(root);
        }
        finally
        {
            (root as IDisposable)?.Dispose();
        }
    }

    /// <summary>Loads the options as a node process does: ./appsettings.json, the process environment, <paramref name="args"/>.</summary>
    public static NodeOptions Load(IReadOnlyList<string> args) => Load(args, ProcessEnvironment(), "appsettings.json");

    /// <summary>The process's environment variables.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        return variables;
    }
}
