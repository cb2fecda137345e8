using Kv.Admin.App;
using Kv.Admin.Output;
using Kv.Backup;
using Spectre.Console;

namespace Kv.Admin.Snapshots;

/// <summary>
/// Shows the progress of long backup work on stderr: a Spectre.Console progress bar when the output is a terminal,
/// else plain lines (one per finished file, and at most one every 2 s within a long file), so logs and pipes get
/// readable text and no escape codes. JSON output shows no progress.
/// </summary>
public sealed class ProgressDisplay(Terminal terminal, OutputFormat format)
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(2);

    /// <summary>Runs <paramref name="work"/>, showing what it reports under <paramref name="title"/>.</summary>
    public async Task<T> RunAsync<T>(string title, Func<IProgress<BackupProgress>, Task<T>> work)
    {
        if (format == OutputFormat.Json) return await work(new InlineProgress(_ => { })).ConfigureAwait(false);
        if (!terminal.OutputIsTerminal) return await work(PlainLines(title)).ConfigureAwait(false);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(terminal.Error),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        T result = default!;
        await console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: 1);
                result = await work(new InlineProgress(p =>
                {
                    task.MaxValue = Math.Max(1, p.BytesTotal);
                    task.Value = p.BytesDone;
                    task.Description = Markup.Escape($"{title}: {p.FilesDone}/{p.FilesTotal} files");
                })).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return result;
    }

    private InlineProgress PlainLines(string title)
    {
        int filesShown = -1;
        var lastLine = DateTime.MinValue;
        return new InlineProgress(p =>
        {
            var now = DateTime.UtcNow;
            if (p.FilesDone == filesShown && now - lastLine < LineInterval) return;
            filesShown = p.FilesDone;
            lastLine = now;
            terminal.Error.WriteLine($"{title}: {p.FilesDone}/{p.FilesTotal} files, {Units.Bytes(p.BytesDone)} of {Units.Bytes(p.BytesTotal)}");
        });
    }
}
