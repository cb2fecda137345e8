using System.CommandLine;
using System.CommandLine.Parsing;
using Kv.Admin.App;
using Kv.Admin.Shell;

namespace Kv.Admin.Commands;

/// <summary>
/// <c>shell</c>: reads command lines and runs each like a one-shot kvctl command, sharing connections. On a terminal it
/// edits lines with history and Tab completion; otherwise (piped input) it reads plain lines.
/// </summary>
public sealed class ShellCommands : ICommandSet
{
    /// <summary>The prompt.</summary>
    public const string Prompt = "kvctl> ";

    /// <summary>Words the shell handles itself.</summary>
    public static readonly IReadOnlyList<string> ShellWords = ["exit", "help", "history", "quit"];

    /// <inheritdoc />
    public IEnumerable<Command> Build(KvctlApp app)
    {
        var echo = new Option<bool>("--echo") { Description = "With piped input, print each line after the prompt before its output (for transcripts)" };
        var command = new Command("shell", "An interactive shell: history, Tab completion of commands and options, `help`, `exit`") { echo };
        app.SetAction(command, (run, ct) => RunAsync(app, run, run.Get(echo), ct));
        return [command];
    }

    private static async Task<int> RunAsync(KvctlApp app, Invocation run, bool echo, CancellationToken cancellationToken)
    {
        if (app.ShellSettings is not null) throw new UsageException("already in the shell");
        var terminal = run.Terminal;
        var history = new LineHistory();
        var completer = new ShellCompleter(app.Root, ShellWords);
        var editor = terminal.Keys is { } keys ? new LineEditor(keys, terminal.Out, history, completer.Complete) : null;
        if (editor is not null)
            await terminal.Out.WriteLineAsync($"kvctl shell on {string.Join(",", run.Settings.Endpoints.Select(e => e.ToString().TrimEnd('/')))}. "
                + "Tab completes, `help` lists commands, `exit` or Ctrl-D leaves.").ConfigureAwait(false);
        app.ShellSettings = run.Settings;
        int lastFailure = ExitCodes.Ok;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                string? line;
                if (editor is not null) line = editor.ReadLine(Prompt);
                else
                {
                    line = await terminal.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                    if (line is not null) history.Add(line);
                    if (line is not null && echo) await terminal.Out.WriteLineAsync(Prompt + line).ConfigureAwait(false);
                }
                if (line is null) break;
                var words = CommandLineParser.SplitCommandLine(line).ToList();
                if (words.Count > 0 && words[0] == "kvctl") words.RemoveAt(0);
                if (words.Count == 0 || words[0].StartsWith('#')) continue;
                switch (words[0])
                {
                    case "exit" or "quit":
                        return lastFailure;
                    case "history":
                        for (int i = 0; i < history.Lines.Count; i++) await terminal.Out.WriteLineAsync($"{i + 1,5}  {history.Lines[i]}").ConfigureAwait(false);
                        continue;
                    case "help":
                        // `help` and `help status` are `--help` and `status --help`.
                        words = [.. words.Skip(1), "--help"];
                        break;
                }
                int code = await app.RunAsync(words, cancellationToken).ConfigureAwait(false);
                if (code != ExitCodes.Ok) lastFailure = code;
            }
            return lastFailure;
        }
        finally
        {
            app.ShellSettings = null;
        }
    }
}
