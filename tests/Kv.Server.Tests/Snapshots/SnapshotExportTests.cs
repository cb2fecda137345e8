using Kv.Backup;
using Kv.Server.Tests.Txn;

namespace Kv.Server.Tests.Snapshots;

/// <summary>Export of a snapshot into a backup directory, and verification that catches damage.</summary>
public sealed class SnapshotExportTests
{
    [Fact(Timeout = 120_000)]
    public async Task Export_WritesEveryRangeAtTheSnapshot_AndVerifyCatchesAFlippedByte()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync();
        foreach (var key in new[] { "a", "h", "p", "x" }) await cluster.PutAsync(key, "before-" + key);
        await cluster.PutAsync("gone", "soon");
        // Two 3 MiB values side by side: the export must cut its chunks below gRPC's 4 MiB message limit.
        foreach (var key in new[] { "big-1", "big-2" }) await cluster.PutAsync(key, new string(key[^1], 3 << 20));
        await cluster.AnyNodeAsync(c => c.DeleteAsync(new Proto.V1.DeleteRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("gone") }).ResponseAsync);
        var snapshot = await SnapshotLifecycleTests.CreateAsync(cluster, 1, "export-me");
        // Written after the snapshot: not in it.
        await cluster.PutAsync("h", "after");
        await cluster.PutAsync("zz", "after");

        string dir = Path.Combine(Path.GetTempPath(), "kv-backup-" + Guid.NewGuid().ToString("N"));
        try
        {
            var reports = new List<BackupProgress>();
            var manifest = await SnapshotExporter.ExportAsync(cluster.Endpoint(2), "export-me", dir, new InlineProgress(reports.Add));
            Assert.Equal(snapshot.Id, manifest.SnapshotId);
            Assert.Equal(4, manifest.Ranges.Count);
            Assert.Contains(reports, r => r.FilesDone == 4 && r.Stage == "export");
            var exported = manifest.Ranges.SelectMany(r => BackupDataFile.Read(Path.Combine(dir, r.File)))
                .ToDictionary(e => e.Key.ToStringUtf8(), e => e.Value.ToStringUtf8());
            Assert.Equal(new[] { "\u0001probe", "a", "big-1", "big-2", "h", "p", "x" }, exported.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(new string('2', 3 << 20), exported["big-2"]);
            Assert.Equal("before-h", exported["h"]);

            var verified = new List<BackupProgress>();
            Assert.Equal(snapshot.Id, (await BackupVerifier.VerifyAsync(dir, new InlineProgress(verified.Add))).SnapshotId);
            Assert.Equal(manifest.TotalBytes, verified[^1].BytesDone);

            // One flipped byte in one file: verification fails and names that file.
            var victim = manifest.Ranges.First(r => r.Entries > 0);
            string path = Path.Combine(dir, victim.File);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[bytes.Length / 2] ^= 0x01;
            await File.WriteAllBytesAsync(path, bytes);
            var e = await Assert.ThrowsAsync<BackupCorruptException>(() => BackupVerifier.VerifyAsync(dir));
            Assert.Equal(victim.File, e.File);
            Assert.Contains("SHA-256", e.Message);

            // A missing file is named too.
            File.Delete(path);
            Assert.Equal(victim.File, (await Assert.ThrowsAsync<BackupCorruptException>(() => BackupVerifier.VerifyAsync(dir))).File);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Prepare_RefusesANonEmptyDataDirectory_WithoutConfirmation()
    {
        string root = Path.Combine(Path.GetTempPath(), "kv-prepare-" + Guid.NewGuid().ToString("N"));
        try
        {
            string backup = Path.Combine(root, "backup");
            Directory.CreateDirectory(backup);
            new BackupManifest { SnapshotId = new string('0', 32), Name = "empty", Ranges = [] }.Write(backup);
            string data = Path.Combine(root, "node-1");
            Directory.CreateDirectory(data);
            await File.WriteAllTextAsync(Path.Combine(data, "CURRENT"), "x");
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => RestorePreparation.PrepareAsync(backup, [data], confirmed: false));
            Assert.Contains("--yes", refused.Message);
            Assert.True(File.Exists(Path.Combine(data, "CURRENT")));
            await RestorePreparation.PrepareAsync(backup, [data], confirmed: true);
            Assert.Empty(Directory.EnumerateFileSystemEntries(data));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
