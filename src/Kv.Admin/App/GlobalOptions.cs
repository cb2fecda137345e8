using System.CommandLine;
using System.CommandLine.Parsing;
using Kv.Admin.Data;
using Kv.Admin.Output;

namespace Kv.Admin.App;

/// <summary>The options every command takes, and how a command line resolves them.</summary>
public sealed class GlobalOptions
{
    /// <summary>The endpoints the <c>dev</c> cluster listens on (<c>dotnet run --project src/Kv.Server -- dev</c>).</summary>
    public const string DefaultEndpoints = "http://127.0.0.1:7101,http://127.0.0.1:7102,http://127.0.0.1:7103";

    /// <summary>The environment variable read when <c>--endpoints</c> is not given.</summary>
    public const string EndpointsVariable = "KV_ENDPOINTS";

    /// <summary><c>--endpoints URL,URL</c>.</summary>
    public Option<string?> Endpoints { get; } = new("--endpoints")
    {
        Description = $"Comma-separated node URLs (default: ${EndpointsVariable}, else {DefaultEndpoints})",
        Recursive = true,
        HelpName = "URL,URL",
    };

    /// <summary><c>--output table|json|raw</c>.</summary>
    public Option<OutputFormat> Output { get; } = LowerCaseEnum("--output", OutputFormat.Table,
        "table (default), json (stable shapes, see docs/admin.md) or raw (values alone, tab-separated rows)", "-o");

    /// <summary><c>--encoding utf8|hex|base64</c>.</summary>
    public Option<ByteEncoding> Encoding { get; } = LowerCaseEnum("--encoding", ByteEncoding.Utf8,
        "How keys and values are written, in arguments and output: utf8 (default), hex or base64");

    /// <summary><c>--timeout SECONDS</c>.</summary>
    public Option<double> TimeoutSeconds { get; } = new("--timeout")
    {
        Description = "Seconds a command may take before it fails",
        Recursive = true,
        DefaultValueFactory = _ => 10,
        HelpName = "SECONDS",
    };

    /// <summary>
    /// A recursive option over an enum, shown and completed in lower case (any case is accepted). Its default is the
    /// enum's zero value, which <paramref name="defaultValue"/> must be (the description names it).
    /// </summary>
    private static Option<T> LowerCaseEnum<T>(string name, T defaultValue, string description, params string[] aliases) where T : struct, Enum
    {
        if (!EqualityComparer<T>.Default.Equals(defaultValue, default)) throw new ArgumentException($"{name}'s default must be {typeof(T).Name}'s zero value");
        var names = Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();
        var option = new Option<T>(name, aliases)
        {
            Description = description,
            Recursive = true,
            HelpName = string.Join('|', names),
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
                if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsDigit(text.FirstOrDefault())) return value;
                r.AddError($"{name} must be one of {string.Join(", ", names)}, got '{text}'");
                return defaultValue;
            },
        };
        option.CompletionSources.Clear();
        option.CompletionSources.Add(names);
        return option;
    }

    /// <summary>Every option, to add to the root command.</summary>
    public IEnumerable<Option> All => [Endpoints, Output, Encoding, TimeoutSeconds];

    /// <summary>
    /// The settings of <paramref name="parse"/>: what it gives explicitly, else <paramref name="fallback"/> (the
    /// shell's own options), else the environment and defaults.
    /// </summary>
    public CommandSettings Resolve(ParseResult parse, CommandSettings? fallback, Func<string, string?> environment)
    {
        T Pick<T>(Option<T> option, T fromFallback) =>
            parse.GetResult(option) is { Implicit: false } || fallback is null ? parse.GetValue(option)! : fromFallback;

        var endpointsText = parse.GetResult(Endpoints) is { Implicit: false } ? parse.GetValue(Endpoints) : null;
        IReadOnlyList<Uri> endpoints = endpointsText is not null
            ? ParseEndpoints(endpointsText, "--endpoints")
            : fallback?.Endpoints
              ?? (environment(EndpointsVariable) is { Length: > 0 } fromEnv ? ParseEndpoints(fromEnv, EndpointsVariable) : ParseEndpoints(DefaultEndpoints, "default"));
        double timeout = Pick(TimeoutSeconds, fallback?.Timeout.TotalSeconds ?? 10);
        if (!(timeout > 0) || timeout > 86_400) throw new UsageException($"--timeout must be between 0 and 86400 seconds, got {timeout}");
        return new CommandSettings(endpoints, Pick(Output, fallback?.Output ?? OutputFormat.Table), Pick(Encoding, fallback?.Encoding ?? ByteEncoding.Utf8),
            TimeSpan.FromSeconds(timeout));
    }

    /// <summary>Parses a comma-separated list of http(s) URLs; <see cref="UsageException"/> names the bad one.</summary>
    public static IReadOnlyList<Uri> ParseEndpoints(string text, string source)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException($"{source} names no endpoint; give node URLs like {DefaultEndpoints}");
        return parts.Select(p => Uri.TryCreate(p, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new UsageException($"{source}: '{p}' is not an http(s) URL; give node URLs like http://127.0.0.1:7101")).ToArray();
    }
}

/// <summary>What a command runs with.</summary>
/// <param name="Endpoints">Node URLs to try, in order.</param>
/// <param name="Output">How to print results.</param>
/// <param name="Encoding">How keys and values are written.</param>
/// <param name="Timeout">How long the command may take.</param>
public sealed record CommandSettings(IReadOnlyList<Uri> Endpoints, OutputFormat Output, ByteEncoding Encoding, TimeSpan Timeout);
