using Kv.Server.Admin;

namespace Kv.Server.Tests.Admin;

/// <summary>The node's data size in the admin status: the data directory and a separate WAL directory, each file counted once.</summary>
public sealed class NodeFactsTests
{
    [Fact]
    public void DataDirectoryBytes_AddsASeparateWalDirectory_AndCountsANestedOneOnce()
    {
        string root = Directory.CreateTempSubdirectory("kv-facts-").FullName;
        try
        {
            string data = Path.Combine(root, "data"), wal = Path.Combine(root, "wal"), nested = Path.Combine(data, "wal");
            Directory.CreateDirectory(wal);
            Directory.CreateDirectory(nested);
            File.WriteAllBytes(Path.Combine(data, "000009.sst"), new byte[1000]);
            File.WriteAllBytes(Path.Combine(wal, "000010.log"), new byte[300]);
            File.WriteAllBytes(Path.Combine(nested, "000011.log"), new byte[20]);

            Assert.Equal(1020, new NodeFacts(data).DataDirectoryBytes);
            Assert.Equal(1320, new NodeFacts(data, wal).DataDirectoryBytes);
            Assert.Equal(1020, new NodeFacts(data, nested).DataDirectoryBytes);
            Assert.Equal(1020, new NodeFacts(data, data + Path.DirectorySeparatorChar).DataDirectoryBytes);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
