using System.CommandLine;
using Grpc.Core;
using Kv.Admin.App;
using Kv.Admin.Cluster;
using Kv.Admin.Output;
using Kv.Admin.Snapshots;
using Kv.Backup;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Commands;

/// <summary><c>snapshot create|list|show|delete|export|verify|restore</c> (docs/snapshots.md, docs/admin.md).</summary>
public sealed partial class SnapshotCommands : ICommandSet
{
    /// <inheritdoc />
    public IEnumerable<Command> Build(KvctlApp app) =>
        [new Command("snapshot", "Cluster-wide consistent snapshots: create, list, show, delete, export to a backup directory, verify, restore")
        {
            Create(app), List(app), Show(app), Delete(app), Export(app), Verify(app), Restore(app),
        }];

    private static Argument<string> NameArgument(KvctlApp app) =>
        new Argument<string>("name") { Description = "The snapshot's name (see `kvctl snapshot list`)" }.CompletedBy(app);

    private static Command Create(KvctlApp app)
    {
        var name = new Argument<string>("name") { Description = "A new snapshot name: letters, digits, '.', '_', '-' (at most 64)" };
        var command = new Command("create", "Take a snapshot of every range at one cluster timestamp and publish it under NAME") { name };
        app.SetAction(command, async (run, ct) =>
        {
            string snapshotName = run.Get(name);
            var manifest = await Call(run, snapshotName, (c, o) => c.CreateAsync(new Wire.CreateSnapshotRequest { Name = snapshotName }, o).ResponseAsync, ct)
                .ConfigureAwait(false);
            WriteSnapshot(run, manifest, "created snapshot");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(KvctlApp app)
    {
        var command = new Command("list", "Published snapshots, oldest first");
        app.SetAction(command, async (run, ct) =>
        {
            var list = await Call(run, "", (c, o) => c.ListAsync(new Wire.ListSnapshotsRequest(), o).ResponseAsync, ct).ConfigureAwait(false);
            var snapshots = list.Snapshots.Select(s => SnapshotReport.From(s, run.Settings.Encoding)).ToArray();
            run.Out.Write(new { snapshots }, new TableView(["NAME", "ID", "TIMESTAMP (UTC)", "RANGES", "SIZE"],
                snapshots.Select(s => (IReadOnlyList<string>)[s.Name, s.Id, s.DisplayTimestamp, s.Ranges.Count.ToString(), Units.Bytes(s.TotalSizeBytes)]).ToArray(),
                $"{snapshots.Length} snapshot{(snapshots.Length == 1 ? "" : "s")}",
                snapshots.Select(s => (IReadOnlyList<string>)[s.Name, s.Id, s.Timestamp.WallNanos.ToString(), s.Ranges.Count.ToString(), s.TotalSizeBytes.ToString()]).ToArray()));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(KvctlApp app)
    {
        var name = NameArgument(app);
        var command = new Command("show", "One snapshot: id, timestamp, every range with its span, size and the nodes holding it") { name };
        app.SetAction(command, async (run, ct) =>
        {
            string snapshotName = run.Get(name);
            var manifest = await Call(run, snapshotName, (c, o) => c.ShowAsync(new Wire.ShowSnapshotRequest { Name = snapshotName }, o).ResponseAsync, ct)
                .ConfigureAwait(false);
            WriteSnapshot(run, manifest, "snapshot");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Prints one snapshot: its JSON document, or its ranges table under "<paramref name="what"/> NAME (id …) at T: N ranges, size".</summary>
    private static void WriteSnapshot(Invocation run, Wire.SnapshotManifest manifest, string what)
    {
        var report = SnapshotReport.From(manifest, run.Settings.Encoding);
        run.Out.Write(report, ShowTable(report, $"{what} {report.Name} (id {report.Id}) at {report.DisplayTimestamp}: "
            + $"{report.Ranges.Count} ranges, {Units.Bytes(report.TotalSizeBytes)}"));
    }

    private static TableView ShowTable(SnapshotReport report, string footer) => new(["RANGE", "START", "END", "SIZE", "NODES"],
        report.Ranges.Select(r => (IReadOnlyList<string>)
            [r.RangeId.ToString(), r.StartKey.Length == 0 ? "-∞" : r.StartKey, r.EndKey ?? "+∞", Units.Bytes(r.ApproximateSizeBytes), string.Join(' ', r.NodeIds)]).ToArray(),
        footer,
        report.Ranges.Select(r => (IReadOnlyList<string>)
            [r.RangeId.ToString(), r.StartKey, r.EndKey ?? "", r.ApproximateSizeBytes.ToString(), string.Join(' ', r.NodeIds)]).ToArray());

    private static Command Delete(KvctlApp app)
    {
        var name = NameArgument(app);
        var command = new Command("delete", "Unpublish a snapshot; the nodes then remove their checkpoints of it (its exports stay valid)") { name };
        app.SetAction(command, async (run, ct) =>
        {
            string snapshotName = run.Get(name);
            await Call(run, snapshotName, (c, o) => c.DeleteAsync(new Wire.DeleteSnapshotRequest { Name = snapshotName }, o).ResponseAsync, ct).ConfigureAwait(false);
            run.Out.Write(new { name = snapshotName, deleted = true }, $"deleted snapshot {snapshotName}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Export(KvctlApp app)
    {
        var name = NameArgument(app);
        var directory = new Argument<string>("dir") { Description = "A new (or empty) directory for the backup" };
        var command = new Command("export", "Write snapshot NAME into DIR as a self-contained backup (a SHA-256 per file), then verify every checksum")
        {
            name, directory,
        };
        app.SetAction(command, async (run, ct) =>
        {
            var progress = new ProgressDisplay(run.Terminal, run.Settings.Output);
            string dir = run.Get(directory);
            await ExportAsync(run, progress, run.Get(name), dir, ct).ConfigureAwait(false);
            var manifest = await progress.RunAsync("verify", p => BackupVerifier.VerifyAsync(dir, p, ct)).ConfigureAwait(false);
            var report = BackupReport.From(dir, manifest);
            run.Out.Write(report, FilesTable(report, $"exported snapshot {report.Name} to {report.Directory}: {report.Files.Count} files, "
                + $"{Units.Bytes(report.TotalBytes)}; every checksum verified"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify(KvctlApp app)
    {
        var directory = new Argument<string>("dir") { Description = "A backup directory (written by `kvctl snapshot export`)" };
        var command = new Command("verify", "Check every file of the backup in DIR: present, of the recorded length and SHA-256") { directory };
        app.SetAction(command, async (run, ct) =>
        {
            string dir = run.Get(directory);
            var manifest = await new ProgressDisplay(run.Terminal, run.Settings.Output).RunAsync("verify", p => BackupVerifier.VerifyAsync(dir, p, ct))
                .ConfigureAwait(false);
            var report = BackupReport.From(dir, manifest);
            run.Out.Write(report, FilesTable(report, $"backup of snapshot {report.Name} (id {report.SnapshotId}) in {report.Directory}: "
                + $"{report.Files.Count} files, {Units.Bytes(report.TotalBytes)}; every checksum matches"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static TableView FilesTable(BackupReport report, string footer) => new(["RANGE", "FILE", "SIZE", "KEYS", "SHA-256"],
        report.Files.Select(f => (IReadOnlyList<string>)[f.RangeId.ToString(), f.File, Units.Bytes(f.SizeBytes), f.Entries.ToString(), f.Sha256[..16] + "…"]).ToArray(),
        footer,
        report.Files.Select(f => (IReadOnlyList<string>)[f.RangeId.ToString(), f.File, f.SizeBytes.ToString(), f.Entries.ToString(), f.Sha256]).ToArray());

    /// <summary>Exports <paramref name="name"/> into <paramref name="directory"/> through the first endpoint that answers.</summary>
    private static async Task<BackupManifest> ExportAsync(Invocation run, ProgressDisplay progress, string name, string directory, CancellationToken ct)
    {
        var failures = new List<string>();
        foreach (var endpoint in run.Settings.Endpoints)
        {
            try
            {
                return await progress.RunAsync("export", p => SnapshotExporter.ExportAsync(endpoint, name, directory, p, ct)).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                throw NoSuchSnapshot(name);
            }
            // Another node may serve the export as long as nothing was written yet (the snapshot lookup failed).
            catch (RpcException e) when (AdminCalls.IsUnreachable(e) && !ct.IsCancellationRequested && IsEmpty(directory))
            {
                failures.Add($"{endpoint.ToString().TrimEnd('/')}: {AdminCalls.Describe(e)}");
            }
            catch (IOException e)
            {
                throw new CommandFailedException(e.Message);
            }
        }
        throw new ClusterUnreachableException(run.Settings.Endpoints, failures);
    }

    private static bool IsEmpty(string directory) => !Directory.Exists(directory) || !Directory.EnumerateFileSystemEntries(directory).Any();

    /// <summary>A Snapshots call at the first endpoint that answers, NOT_FOUND and ALREADY_EXISTS turned into clear messages.</summary>
    private static async Task<T> Call<T>(Invocation run, string name, Func<Wire.Snapshots.SnapshotsClient, CallOptions, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await run.Admin.AnyAsync(channel => new Wire.Snapshots.SnapshotsClient(channel), call, run.Settings.Timeout, ct).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            throw NoSuchSnapshot(name);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
            throw new CommandFailedException($"a snapshot named '{name}' already exists; choose another name, or delete it first (kvctl snapshot delete {name})");
        }
    }

    private static CommandFailedException NoSuchSnapshot(string name) =>
        new($"no snapshot named '{name}'; `kvctl snapshot list` shows the published ones");
}
