using System.CommandLine;
using Kv.Admin.Cluster;
using Kv.Admin.Output;
using Kv.Client;

namespace Kv.Admin.App;

/// <summary>What a command's action gets: its parsed arguments, settings, output, and connections.</summary>
public sealed class Invocation(ParseResult parse, CommandSettings settings, Terminal terminal, Connections connections)
{
    /// <summary>The parsed command line.</summary>
    public ParseResult Parse { get; } = parse;

    /// <summary>Endpoints, output format, encoding, timeout.</summary>
    public CommandSettings Settings { get; } = settings;

    /// <summary>Where results and errors go.</summary>
    public Terminal Terminal { get; } = terminal;

    /// <summary>Prints results in the chosen format.</summary>
    public Renderer Out { get; } = new(terminal, settings.Output);

    /// <summary>Admin calls over the endpoints.</summary>
    public AdminCalls Admin { get; } = new(connections, settings);

    /// <summary>The data client over the endpoints (shared by the shell's commands).</summary>
    public KvClient Client => connections.Client(Settings);

    /// <summary>The value of an argument.</summary>
    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    /// <summary>The value of an option.</summary>
    public T Get<T>(Option<T> option) => Parse.GetValue(option)!;
}
