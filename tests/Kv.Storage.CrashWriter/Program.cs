using System.Globalization;
using Kv.Storage.CrashWriter;
using Kv.Storage.Tests.Crash;

// Entry point: `write <dir> [...]` (the crash child) or `soak [...]` (rounds of kill-and-verify).
const string Usage = """
    usage:
      write <dir> [--mode group|direct] [--writers N] [--duration-ms D]
      soak [--rounds N] [--seed S] [--writers N]
    """;

if (args.Length == 0) return Fail();
var options = ParseOptions(args.AsSpan(args[0] == "write" ? 2 : 1));
if (options is null) return Fail();
switch (args[0])
{
    case "write" when args.Length >= 2:
        var mode = Enum.Parse<CrashWriteMode>(options.GetValueOrDefault("mode", "group"), ignoreCase: true);
        int writers = Int(options, "writers") ?? (mode == CrashWriteMode.Group ? 64 : 4);
        return await WriteCommand.RunAsync(args[1], mode, writers, Int(options, "duration-ms"));
    case "soak":
        return await SoakCommand.RunAsync(Int(options, "rounds") ?? 100, Int(options, "seed") ?? Environment.TickCount, Int(options, "writers"));
    default:
        return Fail();
}

static int Fail()
{
    Console.Error.WriteLine(Usage);
    return 2;
}

static Dictionary<string, string>? ParseOptions(ReadOnlySpan<string> args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) return null;
        options[args[i][2..]] = args[i + 1];
    }
    return options;
}

static int? Int(Dictionary<string, string> options, string name) =>
    options.TryGetValue(name, out string? text) ? int.Parse(text, CultureInfo.InvariantCulture) : null;
