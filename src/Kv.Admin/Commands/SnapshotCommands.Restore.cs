using System.CommandLine;
using System.Globalization;
using Kv.Admin.App;
using Kv.Admin.Output;
using Kv.Admin.Snapshots;
using Kv.Backup;

namespace Kv.Admin.Commands;

/// <summary><c>snapshot restore NAME|DIR --data-dir D …</c>: prepare data directories for a cluster started with <c>--restore-from</c>.</summary>
public sealed partial class SnapshotCommands
{
    private static Command Restore(KvctlApp app)
    {
        var source = new Argument<string>("name-or-dir")
        {
            Description = "A backup directory (verified first), or the name of a snapshot of the running cluster (exported first, see --backup-dir)",
        }.CompletedBy(app);
        var dataDirs = new Option<string[]>("--data-dir")
        {
            Description = "A data directory of the new cluster's nodes on this machine, in node id order from --node-id (repeat the option for several)",
            Required = true,
            HelpName = "DIR",
        };
        var backupDir = new Option<string?>("--backup-dir")
        {
            Description = "Where to export a snapshot given by NAME (default: a new directory under the system temp directory); the nodes read it at their first start",
            HelpName = "DIR",
        };
        var peers = new Option<string?>("--peers")
        {
            Description = "The new cluster's members, id=url,… (as the nodes' --peers), to print their exact start commands",
            HelpName = "1=URL,2=URL",
        };
        var nodeId = new Option<int>("--node-id")
        {
            Description = "The node id of the first --data-dir (the next ones are +1, …): on one machine of a cluster, its node's id",
            DefaultValueFactory = _ => 1,
            HelpName = "ID",
        };
        var inPlace = new Option<bool>("--in-place") { Description = "Data directories may hold a cluster already: empty them (stop those nodes first)" };
        var yes = new Option<bool>("--yes") { Description = "Confirms --in-place without asking" };
        var command = new Command("restore", "Verify a backup (or export snapshot NAME) and prepare the data directories of a new cluster that starts from it")
        {
            source, dataDirs, nodeId, backupDir, peers, inPlace, yes,
        };
        app.SetAction(command, async (run, ct) =>
        {
            var directories = run.Get(dataDirs).Select(Path.GetFullPath).ToArray();
            int firstNodeId = run.Get(nodeId);
            if (firstNodeId <= 0) throw new UsageException($"--node-id must be a positive node id, got {firstNodeId}");
            var members = run.Get(peers) is { } text ? RestoreCommandLines.ParsePeers(text, firstNodeId, directories.Length) : null;
            bool confirmed = await ConfirmAsync(run, directories, run.Get(inPlace), run.Get(yes), ct).ConfigureAwait(false);

            string from = run.Get(source);
            var progress = new ProgressDisplay(run.Terminal, run.Settings.Output);
            string backup;
            if (LooksLikeDirectory(from))
            {
                backup = Path.GetFullPath(from);
                if (!Directory.Exists(backup)) throw new CommandFailedException($"no backup directory '{from}'; give a directory written by `kvctl snapshot export`, or a snapshot name");
            }
            else
            {
                backup = Path.GetFullPath(run.Get(backupDir)
                    ?? Path.Combine(Path.GetTempPath(), $"kv-backup-{from}-{DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture)}"));
                await ExportAsync(run, progress, from, backup, ct).ConfigureAwait(false);
            }

            BackupManifest manifest;
            try
            {
                manifest = await progress.RunAsync("verify", p => RestorePreparation.PrepareAsync(backup, directories, confirmed, p, ct)).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                throw new CommandFailedException(e.Message);
            }
            var commands = RestoreCommandLines.For(directories, firstNodeId, backup, members);
            var report = BackupReport.From(backup, manifest);
            run.Out.Write(new { backup = report, data_directories = directories, node_commands = commands },
                $"verified {report.Files.Count} files ({Units.Bytes(report.TotalBytes)}) of snapshot {report.Name} in {report.Directory}; "
                + $"data director{(directories.Length == 1 ? "y" : "ies")} ready: {string.Join(", ", directories)}\n"
                + (members is null ? "Start each node of the new cluster (put its URL and the members' in place of URLn):\n" : "Start each node of the new cluster:\n")
                + string.Join('\n', commands.Select(c => "  " + c))
                + $"\nKeep {report.Directory} until every node has started once (each restores from it at its first start).");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A path (has a separator, or names an existing directory) rather than a snapshot name (which may hold neither).</summary>
    private static bool LooksLikeDirectory(string source) =>
        Directory.Exists(source) || source.Contains(Path.DirectorySeparatorChar) || source.Contains(Path.AltDirectorySeparatorChar) || source is "." or "..";

    /// <summary>
    /// Whether non-empty data directories may be emptied: never without --in-place; with it, when --yes says so or,
    /// on an interactive terminal, the operator types "yes". Refusals change nothing.
    /// </summary>
    private static async Task<bool> ConfirmAsync(Invocation run, IReadOnlyList<string> directories, bool inPlace, bool yes, CancellationToken ct)
    {
        var occupied = directories.Where(d => !IsEmpty(d)).ToArray();
        if (occupied.Length == 0) return false;
        string which = string.Join(", ", occupied.Select(d => $"'{d}'"));
        if (!inPlace)
            throw new CommandFailedException($"{which} {(occupied.Length == 1 ? "is" : "are")} not empty. Restore into new directories, or, to replace "
                + "that data (in place: stop those nodes first), add --in-place --yes. Nothing was changed.");
        if (yes) return true;
        if (run.Terminal.Keys is null)
            throw new CommandFailedException($"an in-place restore deletes everything in {which}; confirm with --yes. Nothing was changed.");
        await run.Terminal.Error.WriteAsync($"An in-place restore deletes everything in {which} (stop those nodes first). Type 'yes' to go on: ").ConfigureAwait(false);
        string? answer = await run.Terminal.In.ReadLineAsync(ct).ConfigureAwait(false);
        if (!string.Equals(answer?.Trim(), "yes", StringComparison.OrdinalIgnoreCase))
            throw new CommandFailedException("not confirmed; nothing was changed");
        return true;
    }
}
