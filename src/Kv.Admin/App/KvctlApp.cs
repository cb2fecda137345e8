using System.CommandLine;
using System.CommandLine.Help;
using Grpc.Core;
using Kv.Admin.Cluster;
using Kv.Admin.Commands;
using Kv.Admin.Shell;
using Kv.Client;

namespace Kv.Admin.App;

/// <summary>
/// kvctl: builds the command tree, runs command lines (one-shot, or one per shell line) and turns failures into
/// exit codes and messages. Holds the connections, so that the shell's commands share them; dispose at the end.
/// </summary>
public sealed class KvctlApp : IAsyncDisposable
{
    /// <summary>The command groups, in help order. A new group (snapshots, say) is one more entry here.</summary>
    public static IReadOnlyList<ICommandSet> CommandSets { get; } =
        [new ClusterCommands(), new MembersCommands(), new DataCommands(), new SnapshotCommands(), new ShellCommands()];

    private readonly Func<string, string?> _environment;
    private readonly Connections _connections = new();
    private readonly Lock _gate = new();
    private CancellationTokenSource? _running;

    /// <summary>Creates the app over <paramref name="terminal"/>; <paramref name="environment"/> reads variables (KV_ENDPOINTS).</summary>
    public KvctlApp(Terminal terminal, Func<string, string?>? environment = null)
    {
        Terminal = terminal;
        _environment = environment ?? Environment.GetEnvironmentVariable;
        Root = new RootCommand("kvctl: inspect and operate a Kv cluster. Run a command once, or `kvctl shell` for an interactive shell.");
        foreach (var option in Options.All) Root.Options.Add(option);
        foreach (var set in CommandSets)
            foreach (var command in set.Build(this))
                Root.Subcommands.Add(command);
    }

    /// <summary>The console (or test strings) the app reads and writes.</summary>
    public Terminal Terminal { get; }

    /// <summary>The options every command takes.</summary>
    public GlobalOptions Options { get; } = new();

    /// <summary>The command tree.</summary>
    public RootCommand Root { get; }

    /// <summary>The settings of the shell that runs the current line, which the line's own options override.</summary>
    internal CommandSettings? ShellSettings { get; set; }

    /// <summary>Runs one command line in a new app and disposes it: what <c>Main</c> does.</summary>
    public static async Task<int> RunOnceAsync(IReadOnlyList<string> args, Terminal terminal, Func<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        await using var app = new KvctlApp(terminal, environment);
        return await app.RunAsync(args, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses and runs one command line. Usage errors print what was wrong and return <see cref="ExitCodes.Usage"/>.</summary>
    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        var parse = Root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors) await Terminal.Error.WriteLineAsync($"kvctl: {error.Message}").ConfigureAwait(false);
            var path = string.Join(' ', parse.CommandResult.Command is RootCommand ? [] : CommandPath(parse.CommandResult));
            await Terminal.Error.WriteLineAsync($"Run 'kvctl {(path.Length > 0 ? path + " " : "")}--help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration
        {
            Output = Terminal.Out,
            Error = Terminal.Error,
            EnableDefaultExceptionHandler = false,
            // Ctrl-C is the caller's (Program, the shell): a shell line must not end the process.
            ProcessTerminationTimeout = null,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels the command that is running (Ctrl-C); the shell goes on reading lines.</summary>
    public void Interrupt()
    {
        lock (_gate) _running?.Cancel();
    }

    /// <summary>
    /// Sets <paramref name="command"/>'s action: resolve the settings, run <paramref name="action"/>, and turn its
    /// failures into a message on stderr and an exit code (<see cref="ExitCodes"/>).
    /// </summary>
    public void SetAction(Command command, Func<Invocation, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lock (_gate) _running = running;
            try
            {
                var settings = Options.Resolve(parse, ShellSettings, _environment);
                return await action(new Invocation(parse, settings, Terminal, _connections), running.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var (code, message) = Explain(e, running.IsCancellationRequested);
                await Terminal.Error.WriteLineAsync($"kvctl {string.Join(' ', CommandPath(parse.CommandResult))}: {message}").ConfigureAwait(false);
                return code;
            }
            finally
            {
                lock (_gate) _running = null;
            }
        });
    }

    /// <summary>The exit code and message for a failure.</summary>
    internal static (int Code, string Message) Explain(Exception e, bool interrupted) => e switch
    {
        UsageException u => (ExitCodes.Usage, u.Message),
        CommandFailedException f => (ExitCodes.Failed, f.Message),
        Kv.Backup.BackupCorruptException b => (ExitCodes.Failed, $"the backup failed verification: {b.Message}"),
        OperationCanceledException when interrupted => (ExitCodes.Interrupted, "interrupted"),
        RpcException { StatusCode: StatusCode.Cancelled } when interrupted => (ExitCodes.Interrupted, "interrupted"),
        ClusterUnreachableException u => (ExitCodes.Failed, u.Message),
        RpcException { StatusCode: StatusCode.Unimplemented } r => (ExitCodes.Failed,
            r.Status.Detail.Length > 0 && !r.Status.Detail.StartsWith("Method is unimplemented", StringComparison.Ordinal)
                ? r.Status.Detail : "not supported by this server (it may be an older version)"),
        RpcException { StatusCode: StatusCode.InvalidArgument } r => (ExitCodes.Failed, $"the server refused the request: {r.Status.Detail}"),
        RpcException { StatusCode: StatusCode.DeadlineExceeded } r => (ExitCodes.Failed,
            $"timed out{(r.Status.Detail.Length > 0 ? $" ({r.Status.Detail})" : "")}; try again, or give more time with --timeout"),
        RpcException r => (ExitCodes.Failed, $"failed with {r.StatusCode}: {r.Status.Detail}"),
        KvException k => (ExitCodes.Failed, k.Message),
        _ => (ExitCodes.Failed, $"unexpected error, please report it: {e}"),
    };

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Push(r.Command.Name);
        return names;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _connections.DisposeAsync();
}
