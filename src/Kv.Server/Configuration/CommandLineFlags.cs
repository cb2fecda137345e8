namespace Kv.Server.Configuration;

/// <summary>
/// Reads the node's flags: <c>--flag value</c> or <c>--flag=value</c>, each flag from <see cref="NodeSettings"/>.
/// A flag given twice keeps the last value. Anything else (an unknown flag, a flag without a value, a stray word)
/// is a problem rather than silently ignored, because a mistyped flag would otherwise leave a default in place.
/// </summary>
internal sealed record CommandLineFlags(IReadOnlyDictionary<string, string> Values, IReadOnlyList<string> Problems)
{
    public static CommandLineFlags Parse(IReadOnlyList<string> args)
    {
        var byFlag = NodeSettings.All.ToDictionary(s => s.Flag, StringComparer.Ordinal);
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                problems.Add($"Unexpected argument '{arg}': flags look like --name value or --name=value.");
                continue;
            }
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string flag = equals < 0 ? arg : arg[..equals];
            if (!byFlag.TryGetValue(flag, out NodeSetting? setting))
            {
                problems.Add($"Unknown flag {flag}; the flags are {string.Join(", ", NodeSettings.All.Select(s => s.Flag))}.");
                if (equals < 0 && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) i++;
                continue;
            }
            string? value = equals >= 0 ? arg[(equals + 1)..]
                : i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i]
                : null;
            if (value is null) problems.Add($"Flag {flag} needs a value.");
            else values[setting.ConfigurationPath] = value;
        }
        return new CommandLineFlags(values, problems);
    }
}
