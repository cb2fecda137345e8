using Kv.Backup;
using Kv.Server.Configuration;
using Kv.Server.Node;
using Kv.Server.Tests.Node;

namespace Kv.Server.Tests.Snapshots;

/// <summary>
/// --restore-from: a restored node restarts normally with the flag kept; any other initialised data directory is refused;
/// an in-place restore of nodes with separate WAL directories starts without the replaced database's WAL.
/// </summary>
public sealed class SnapshotRestoreTests
{
    [Fact(Timeout = 120_000)]
    public async Task RestoredNode_RestartsWithTheSameFlag_ButADifferentBackupOnItsDataIsRefused()
    {
        string root = Path.Combine(Path.GetTempPath(), "kv-restore-" + Guid.NewGuid().ToString("N"));
        try
        {
            string first = Path.Combine(root, "first"), second = Path.Combine(root, "second");
            await using (var source = await InProcessCluster.StartAsync())
            {
                await source.PutAsync("k", "one");
                await SnapshotLifecycleTests.CreateAsync(source, 1, "first");
                await SnapshotExporter.ExportAsync(source.Endpoint(1), "first", first);
                await source.PutAsync("k", "two");
                await SnapshotLifecycleTests.CreateAsync(source, 2, "second");
                await SnapshotExporter.ExportAsync(source.Endpoint(2), "second", second);
            }

            await using var restored = await InProcessCluster.StartAsync(o => o with { RestoreFrom = first });
            Assert.Equal("one", (await restored.GetAsync("k")).Value.ToStringUtf8());
            await restored.PutAsync("k", "three");
            // Restarted with the flag still set: it was restored from this backup, so it starts normally and keeps its data.
            await restored.StopNodeAsync(1);
            await restored.StartNodeAsync(1);
            Assert.Equal("three", (await restored.GetAsync("k")).Value.ToStringUtf8());

            // Another backup over an initialised data directory: refused, saying what to do.
            var options = restored.Node(2).Options with { RestoreFrom = second };
            await restored.StopNodeAsync(2);
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => KvNode.StartAsync(options, logging: null, CancellationToken.None));
            Assert.Contains("already holds a cluster", refused.Message);
            Assert.Contains("--in-place --yes", refused.Message);

            // A directory that holds no backup is a configuration problem.
            var bad = Assert.Throws<NodeOptionsException>(() => (options with { RestoreFrom = root }).EnsureValid());
            Assert.Contains("manifest.json", bad.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task InPlaceRestore_OfNodesWithSeparateWalDirectories_DiscardsTheReplacedDatabasesWal()
    {
        string backup = Path.Combine(Path.GetTempPath(), "kv-restore-" + Guid.NewGuid().ToString("N"));
        try
        {
            string restoreFrom = "";
            // The WAL directories sit beside the data directories, under the cluster's root, which it deletes.
            await using var cluster = await InProcessCluster.StartAsync(o => o with { WalDirectory = o.DataDirectory + "-wal", RestoreFrom = restoreFrom });
            await cluster.PutAsync("k", "in the backup");
            await SnapshotLifecycleTests.CreateAsync(cluster, 1, "before");
            await SnapshotExporter.ExportAsync(cluster.Endpoint(1), "before", backup);
            await cluster.PutAsync("k", "after the backup");
            var walDirectories = Enumerable.Range(1, 3).Select(id => cluster.Node(id).Options.WalDirectory!).ToArray();
            var dataDirectories = Enumerable.Range(1, 3).Select(id => cluster.Node(id).Options.DataDirectory).ToArray();
            for (int id = 1; id <= 3; id++) await cluster.StopNodeAsync(id);

            // What `kvctl snapshot restore --in-place --yes` does: it knows the data directories only.
            await RestorePreparation.PrepareAsync(backup, dataDirectories, confirmed: true);
            Assert.All(walDirectories, wal => Assert.NotEmpty(Directory.GetFiles(wal, "*.log")));

            restoreFrom = backup;
            for (int id = 1; id <= 3; id++) await cluster.StartNodeAsync(id);
            Assert.Equal("in the backup", (await cluster.GetAsync("k")).Value.ToStringUtf8());
        }
        finally
        {
            if (Directory.Exists(backup)) Directory.Delete(backup, recursive: true);
        }
    }
}
