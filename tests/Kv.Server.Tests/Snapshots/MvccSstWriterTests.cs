using Kv.Storage;
using Kv.Storage.Mvcc;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Tests.Snapshots;

/// <summary>The restore's fast path: committed versions written as SST files and ingested read back like puts.</summary>
public sealed class MvccSstWriterTests
{
    [Fact]
    public void IngestedVersions_ReadBackAtTheirTimestamps_AndKeysMustAscend()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kv-sst-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var store = NodeStore.Open(Path.Combine(dir, "db"));
            using var mvcc = new MvccStore(store);
            string file = Path.Combine(dir, "db", "one.sst");
            using (var writer = new MvccSstWriter(file))
            {
                writer.Add("a"u8, "1"u8, new StorageTimestamp(10, 0));
                writer.Add("a\0b"u8, "2"u8, new StorageTimestamp(20, 1));
                writer.Add("b"u8, "3"u8, new StorageTimestamp(30, 0));
                Assert.Throws<ArgumentException>(() => writer.Add("b"u8, "again"u8, new StorageTimestamp(40, 0)));
                Assert.Throws<ArgumentException>(() => writer.Add("a"u8, "back"u8, new StorageTimestamp(40, 0)));
                writer.Finish();
            }
            MvccSstWriter.Ingest(store, [file]);
            Assert.False(File.Exists(file)); // moved into the database

            var b = mvcc.Get("a\0b"u8, StorageTimestamp.Max);
            Assert.Equal("2"u8.ToArray(), b.Value);
            Assert.Equal(new StorageTimestamp(20, 1), b.VersionTimestamp);
            Assert.False(mvcc.Get("b"u8, new StorageTimestamp(29, 0)).HasValue);
            Assert.Equal("3"u8.ToArray(), mvcc.Get("b"u8, new StorageTimestamp(30, 0)).Value);
            var page = mvcc.Scan(KeySpan.All, StorageTimestamp.Max, 10);
            Assert.Equal(3, page.Entries.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
