using System.Text.Json;
using Kv.Admin.App;
using Kv.Admin.Data;
using Kv.Admin.Output;
using Kv.Admin.Shell;
using Kv.Server.Tests.Node;

namespace Kv.Admin.Tests;

/// <summary>kvctl snapshot …: create, list, show, export, verify, restore into a new in-process cluster, delete; against a real cluster.</summary>
[Collection(AdminClusterCollection.Name)]
public sealed class SnapshotCommandTests(AdminClusterFixture fixture)
{
    private Task<KvctlResult> Run(params string[] args) => Kvctl.RunAsync([.. args, "--endpoints", fixture.Endpoints, "--timeout", "60"]);

    [Fact(Timeout = 180_000)]
    public async Task CreateListShowExportVerify_RestoreIntoANewCluster_ThenDelete()
    {
        string root = Path.Combine(Path.GetTempPath(), "kvctl-snap-" + Guid.NewGuid().ToString("N"));
        string name = "cli-" + Guid.NewGuid().ToString("N")[..8];
        string backup = Path.Combine(root, "backup");
        string[] dataDirs = [.. Enumerable.Range(1, 3).Select(i => Path.Combine(root, $"node-{i}"))];
        try
        {
            await fixture.Cluster.PutAsync("snapcli/k", "before");
            var created = await Run("snapshot", "create", name, "-o", "json");
            Assert.True(created.ExitCode == ExitCodes.Ok, created.ToString());
            await fixture.Cluster.PutAsync("snapcli/k", "after");

            var again = await Run("snapshot", "create", name);
            Assert.Equal(ExitCodes.Failed, again.ExitCode);
            Assert.Contains($"a snapshot named '{name}' already exists", again.Error);

            var list = await Run("snapshot", "list", "-o", "json");
            Assert.True(list.ExitCode == ExitCodes.Ok, list.ToString());
            var listed = JsonDocument.Parse(list.Out).RootElement.GetProperty("snapshots").EnumerateArray();
            Assert.Single(listed, s => s.GetProperty("name").GetString() == name);

            var show = await Run("snapshot", "show", name, "-o", "json");
            Assert.True(show.ExitCode == ExitCodes.Ok, show.ToString());
            var shown = JsonDocument.Parse(show.Out).RootElement;
            Assert.Equal(JsonDocument.Parse(created.Out).RootElement.GetProperty("id").GetString(), shown.GetProperty("id").GetString());
            Assert.True(shown.GetProperty("timestamp").GetProperty("wall_nanos").GetInt64() > 0);
            var ranges = shown.GetProperty("ranges").EnumerateArray().ToArray();
            Assert.Equal("", ranges[0].GetProperty("start_key").GetString());
            Assert.Equal(JsonValueKind.Null, ranges[^1].GetProperty("end_key").ValueKind);
            Assert.All(ranges, r => Assert.NotEmpty(r.GetProperty("node_ids").EnumerateArray()));
            Assert.Equal(ranges.Sum(r => r.GetProperty("approximate_size_bytes").GetInt64()), shown.GetProperty("total_size_bytes").GetInt64());
            var table = await Run("snapshot", "show", name);
            Assert.Contains($"snapshot {name} (id ", table.Out);

            var export = await Run("snapshot", "export", name, backup);
            Assert.True(export.ExitCode == ExitCodes.Ok, export.ToString());
            Assert.Contains("every checksum verified", export.Out);
            Assert.Contains("export: ", export.Error); // plain progress lines (not a terminal)
            Assert.Contains("verify: ", export.Error);
            var verify = await Run("snapshot", "verify", backup, "-o", "json");
            Assert.True(verify.ExitCode == ExitCodes.Ok, verify.ToString());
            Assert.True(JsonDocument.Parse(verify.Out).RootElement.GetProperty("verified").GetBoolean());

            var restore = await Run("snapshot", "restore", backup, "--data-dir", dataDirs[0], "--data-dir", dataDirs[1], "--data-dir", dataDirs[2], "-o", "json");
            Assert.True(restore.ExitCode == ExitCodes.Ok, restore.ToString());
            var commands = JsonDocument.Parse(restore.Out).RootElement.GetProperty("node_commands").EnumerateArray().Select(c => c.GetString()!).ToArray();
            Assert.Equal(3, commands.Length);
            Assert.All(commands, c => Assert.Contains($"--restore-from {backup}", c));
            Assert.Contains($"--node-id 2 --listen URL2 --peers 1=URL1,2=URL2,3=URL3 --data-dir {dataDirs[1]}", commands[1]);

            // A fresh cluster started from the prepared directories with --restore-from holds the data at the snapshot.
            await using (var restored = await InProcessCluster.StartAsync(o => o with { DataDirectory = dataDirs[(int)o.NodeId - 1], RestoreFrom = backup }))
                Assert.Equal("before", (await restored.GetAsync("snapcli/k")).Value.ToStringUtf8());

            // The data directories now hold a cluster: refused without --in-place, and without --yes off a terminal; nothing changes.
            var marker = Directory.EnumerateFileSystemEntries(dataDirs[0]).ToArray();
            var refused = await Run("snapshot", "restore", backup, "--data-dir", dataDirs[0]);
            Assert.Equal(ExitCodes.Failed, refused.ExitCode);
            Assert.Contains("not empty", refused.Error);
            Assert.Contains("--in-place --yes", refused.Error);
            var unconfirmed = await Run("snapshot", "restore", backup, "--data-dir", dataDirs[0], "--in-place");
            Assert.Equal(ExitCodes.Failed, unconfirmed.ExitCode);
            Assert.Contains("confirm with --yes", unconfirmed.Error);
            Assert.Equal(marker, Directory.EnumerateFileSystemEntries(dataDirs[0]).ToArray());
            var inPlace = await Run("snapshot", "restore", backup, "--data-dir", dataDirs[0], "--in-place", "--yes");
            Assert.True(inPlace.ExitCode == ExitCodes.Ok, inPlace.ToString());
            Assert.Empty(Directory.EnumerateFileSystemEntries(dataDirs[0]));

            // By name: exported from the cluster into --backup-dir first, then verified and prepared.
            string byNameBackup = Path.Combine(root, "by-name");
            var byName = await Run("snapshot", "restore", name, "--data-dir", Path.Combine(root, "other"), "--backup-dir", byNameBackup);
            Assert.True(byName.ExitCode == ExitCodes.Ok, byName.ToString());
            Assert.Contains($"--restore-from {byNameBackup}", byName.Out);
            Assert.True(File.Exists(Path.Combine(byNameBackup, "manifest.json")));

            // One flipped byte in a data file: verify fails naming the file.
            string file = Directory.EnumerateFiles(backup, "*.kvsnap").OrderByDescending(f => new FileInfo(f).Length).First();
            var bytes = await File.ReadAllBytesAsync(file);
            bytes[^1] ^= 0x01;
            await File.WriteAllBytesAsync(file, bytes);
            var corrupt = await Run("snapshot", "verify", backup);
            Assert.Equal(ExitCodes.Failed, corrupt.ExitCode);
            Assert.Contains(Path.GetFileName(file), corrupt.Error);
            Assert.Contains("SHA-256", corrupt.Error);

            var delete = await Run("snapshot", "delete", name);
            Assert.True(delete.ExitCode == ExitCodes.Ok, delete.ToString());
            var gone = await Run("snapshot", "show", name);
            Assert.Equal(ExitCodes.Failed, gone.ExitCode);
            Assert.Contains($"no snapshot named '{name}'", gone.Error);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Shell_CompletesSnapshotNames_FromTheCluster()
    {
        string name = "complete-" + Guid.NewGuid().ToString("N")[..8];
        var created = await Run("snapshot", "create", name);
        Assert.True(created.ExitCode == ExitCodes.Ok, created.ToString());
        try
        {
            await using var app = new KvctlApp(new Terminal(TextReader.Null, TextWriter.Null, TextWriter.Null, null, false, 200));
            var completer = new ShellCompleter(app.Root, []);
            Assert.DoesNotContain(name, completer.Complete("snapshot show compl")); // outside the shell: no endpoints, no names
            app.ShellSettings = new CommandSettings(GlobalOptions.ParseEndpoints(fixture.Endpoints, "test"), OutputFormat.Table, ByteEncoding.Utf8,
                TimeSpan.FromSeconds(10));
            Assert.Contains(name, completer.Complete("snapshot show compl"));
            Assert.Contains(name, completer.Complete("snapshot restore compl"));
            Assert.DoesNotContain(name, completer.Complete("snapshot show zzz"));
        }
        finally
        {
            await Run("snapshot", "delete", name);
        }
    }

    [Fact]
    public async Task Restore_PeersWithoutTheDataDirectoriesNodes_IsAUsageError()
    {
        var result = await Kvctl.RunAsync("snapshot", "restore", "/nonexistent/backup", "--data-dir", "/tmp/a", "--node-id", "3",
            "--peers", "1=http://10.0.0.1:7000,2=http://10.0.0.2:7000");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--peers names no node 3", result.Error);
    }

    [Fact]
    public void RestoreCommandLines_OneMachineOfThree_StartsItsOwnNodeWithEveryMember()
    {
        var peers = Kv.Admin.Snapshots.RestoreCommandLines.ParsePeers("1=http://10.0.0.1:7000,2=http://10.0.0.2:7000,3=http://10.0.0.3:7000", 2, 1);
        var line = Assert.Single(Kv.Admin.Snapshots.RestoreCommandLines.For(["/var/lib/kv"], 2, "/backups/my nightly", peers));
        Assert.Equal("dotnet Kv.Server.dll node --node-id 2 --listen http://10.0.0.2:7000 "
            + "--peers 1=http://10.0.0.1:7000,2=http://10.0.0.2:7000,3=http://10.0.0.3:7000 --data-dir /var/lib/kv --restore-from '/backups/my nightly'", line);
    }
}
