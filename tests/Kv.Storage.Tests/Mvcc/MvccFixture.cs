using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using RocksDbSharp;

namespace Kv.Storage.Tests.Mvcc;

/// <summary>A fresh NodeStore in a unique temporary directory with an MvccStore over it; deleted on dispose.</summary>
internal sealed class MvccFixture : IDisposable
{
    public MvccFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "kv-mvcc-tests", Guid.NewGuid().ToString("N"));
        Node = NodeStore.Open(Directory);
        Mvcc = new MvccStore(Node);
    }

    public string Directory { get; private set; }

    public NodeStore Node { get; private set; }

    public MvccStore Mvcc { get; private set; }

    /// <summary>Closes and reopens the database (e.g. after editing its files).</summary>
    public void Reopen()
    {
        Mvcc.Dispose();
        Node.Dispose();
        Node = NodeStore.Open(Directory);
        Mvcc = new MvccStore(Node);
    }

    /// <summary>Applies <paramref name="fill"/> to a new batch and writes it.</summary>
    public void Batch(Action<WriteBatch> fill)
    {
        using var batch = new WriteBatch();
        fill(batch);
        Mvcc.Write(batch);
    }

    public void Dispose()
    {
        Mvcc.Dispose();
        Node.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    public static Timestamp Ts(long wall, int logical = 0) => new(wall, logical);

    public static byte[] B(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    public static readonly TxnId TxnA = new(0xA, 1);
    public static readonly TxnId TxnB = new(0xB, 2);
}
