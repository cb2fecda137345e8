namespace Kv.Storage;

/// <summary>
/// Stored data failed a checksum or could not be decoded. Never silently returned as wrong data: the message
/// names what was being read (the group or range, and the key) so that the replica can be rebuilt from peers.
/// </summary>
public sealed class StorageCorruptionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageCorruptionException(string message, Exception? inner = null) : base(message, inner) { }
}
