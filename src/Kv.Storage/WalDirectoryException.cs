namespace Kv.Storage;

/// <summary>
/// A node database was not opened because its write-ahead log and its data directory do not go together: the WAL
/// directory holds another database's WAL (which RocksDB would replay into this one), or this database's WAL is not
/// where it was last kept (its synced but unflushed writes would be lost). The message names both directories and
/// what to do; nothing was changed.
/// </summary>
public sealed class WalDirectoryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WalDirectoryException(string message) : base(message) { }
}
