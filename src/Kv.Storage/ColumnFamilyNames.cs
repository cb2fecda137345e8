namespace Kv.Storage;

/// <summary>The column families of a node's database, one per role (docs/storage.md).</summary>
public static class ColumnFamilyNames
{
    /// <summary>Paxos acceptor state and logs of every group on the node.</summary>
    public const string Paxos = "paxos";

    /// <summary>MVCC versions of user data of every range on the node, staged versions included.</summary>
    public const string Data = "data";

    /// <summary>Range descriptors and node metadata.</summary>
    public const string Meta = "meta";

    /// <summary>Every column family the node opens (RocksDB's "default" is opened too, and left empty).</summary>
    public static readonly string[] All = [Paxos, Data, Meta];
}
