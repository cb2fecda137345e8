using System.Globalization;

namespace Kv.IdleRanges;

/// <summary>The <c>--name value</c> flags after the command; unknown or valueless flags are errors.</summary>
internal sealed class Arguments
{
    private static readonly string[] Known = ["endpoints", "timeout-s", "count", "prefix", "workers", "ranges", "ticks"];
    private readonly Dictionary<string, string> _values;

    private Arguments(Dictionary<string, string> values, IReadOnlyList<Uri> endpoints)
    {
        _values = values;
        Endpoints = endpoints;
    }

    /// <summary>The nodes, in node id order (node 1 first); empty without --endpoints.</summary>
    public IReadOnlyList<Uri> Endpoints { get; }

    /// <exception cref="ArgumentException">A flag is unknown or lacks a value.</exception>
    public static Arguments Parse(ReadOnlySpan<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"stray argument '{args[i]}'");
            if (!Known.Contains(name)) throw new ArgumentException($"unknown flag --{name}; the flags are --{string.Join(", --", Known)}");
            if (i + 1 >= args.Length) throw new ArgumentException($"--{name} needs a value");
            values[name] = args[++i];
        }
        if (!values.TryGetValue("endpoints", out var list)) return new Arguments(values, []);
        var endpoints = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToArray();
        return new Arguments(values, endpoints);
    }

    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out var v)
            ? int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new ArgumentException($"--{name} '{v}' is not a whole number")
            : fallback;

    public string String(string name, string fallback) => _values.GetValueOrDefault(name, fallback);
}
