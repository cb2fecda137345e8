using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using RocksDbSharp;

namespace Kv.Storage.Meta;

/// <summary>
/// Small metadata values in the <c>meta</c> column family under string keys (<see cref="MetaKeys"/>). Each
/// stored value is followed by a CRC32C (little-endian) of the UTF-8 key and the value, so a flipped bit or a
/// value found under the wrong key is reported as <see cref="StorageCorruptionException"/> naming the key.
/// Writes go into a caller's <see cref="WriteBatch"/> so they commit atomically with related data.
/// </summary>
public sealed class MetaStore
{
    private const int ChecksumLength = 4;

    /// <summary>Metadata of <paramref name="store"/>.</summary>
    public MetaStore(NodeStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
    }

    /// <summary>The store whose meta column family is used.</summary>
    public NodeStore Store { get; }

    /// <summary>Adds to <paramref name="batch"/> the write of <paramref name="value"/> under <paramref name="key"/>.</summary>
    public void Put(WriteBatch batch, string key, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(batch);
        byte[] keyBytes = EncodeKey(key);
        var stored = new byte[value.Length + ChecksumLength];
        value.CopyTo(stored);
        BinaryPrimitives.WriteUInt32LittleEndian(stored.AsSpan(value.Length), Checksum(keyBytes, value));
        batch.Put(keyBytes, stored, Store.Meta);
    }

    /// <summary>Adds to <paramref name="batch"/> the deletion of <paramref name="key"/> (no effect if absent).</summary>
    public void Delete(WriteBatch batch, string key)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Delete(EncodeKey(key), Store.Meta);
    }

    /// <summary>Reads the value of <paramref name="key"/>, verifying its checksum; false if absent.</summary>
    /// <exception cref="StorageCorruptionException">The stored value fails its check.</exception>
    public bool TryGet(string key, [NotNullWhen(true)] out byte[]? value)
    {
        byte[] keyBytes = EncodeKey(key);
        byte[]? stored = Store.Db.Get(keyBytes, Store.Meta, Store.VerifiedReads);
        value = stored is null ? null : Verify(keyBytes, stored);
        return value is not null;
    }

    /// <summary>Every key starting with <paramref name="prefix"/> (empty = all) and its verified value, in key byte order.</summary>
    /// <exception cref="StorageCorruptionException">A stored value fails its check.</exception>
    public IReadOnlyList<KeyValuePair<string, byte[]>> List(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        byte[] lower = System.Text.Encoding.UTF8.GetBytes(prefix);
        var options = new ReadOptions().SetVerifyChecksums(true).SetIterateLowerBound(lower);
        byte[]? upper = PrefixUpperBound(lower);
        if (upper is not null) options.SetIterateUpperBound(upper);
        var result = new List<KeyValuePair<string, byte[]>>();
        using var iterator = Store.Db.NewIterator(Store.Meta, options);
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            byte[] keyBytes = iterator.Key();
            result.Add(new(DecodeKey(keyBytes), Verify(keyBytes, iterator.Value())));
        }
        try
        {
            Native.Instance.rocksdb_iter_get_error(iterator.Handle);
        }
        catch (RocksDbException e) when (e.Message.Contains("Corruption", StringComparison.OrdinalIgnoreCase))
        {
            throw new StorageCorruptionException($"Corrupt meta data while listing keys with prefix '{prefix}': {e.Message}", e);
        }
        return result;
    }

    /// <summary>
    /// Decodes a verified value read under <paramref name="key"/>. A value that passed its checksum but does not decode
    /// (written by a different version, or read where it does not belong) is corruption of this node's copy: the
    /// error names the key instead of leaving a bare parser message.
    /// </summary>
    /// <exception cref="StorageCorruptionException"><paramref name="decode"/> failed.</exception>
    public static T Decode<T>(string key, byte[] value, Func<byte[], T> decode)
    {
        ArgumentNullException.ThrowIfNull(decode);
        try
        {
            return decode(value);
        }
        catch (Exception e) when (e is not StorageCorruptionException and not OutOfMemoryException)
        {
            throw new StorageCorruptionException(
                $"Meta value of key '{key}' ({value.Length} bytes: {Convert.ToHexString(value, 0, Math.Min(value.Length, 32))}{(value.Length > 32 ? "…" : "")}) cannot be decoded: {e.Message}", e);
        }
    }

    private static byte[] EncodeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return System.Text.Encoding.UTF8.GetBytes(key);
    }

    private static string DecodeKey(byte[] keyBytes)
    {
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(keyBytes);
        }
        catch (ArgumentException e)
        {
            throw new StorageCorruptionException($"Meta key {Convert.ToHexString(keyBytes)} is not valid UTF-8.", e);
        }
    }

    private static byte[] Verify(byte[] keyBytes, byte[] stored)
    {
        if (stored.Length < ChecksumLength)
            throw new StorageCorruptionException(
                $"Meta value of key '{DecodeKey(keyBytes)}' is {stored.Length} bytes, too short for its checksum.");
        var value = stored.AsSpan(0, stored.Length - ChecksumLength);
        uint carried = BinaryPrimitives.ReadUInt32LittleEndian(stored.AsSpan(value.Length));
        uint computed = Checksum(keyBytes, value);
        if (carried != computed)
            throw new StorageCorruptionException(
                $"Meta value of key '{DecodeKey(keyBytes)}' failed its CRC32C check (stored 0x{carried:X8}, computed 0x{computed:X8}).");
        return value.ToArray();
    }

    private static uint Checksum(ReadOnlySpan<byte> keyBytes, ReadOnlySpan<byte> value)
    {
        var crc = new Crc32(Crc32ParameterSet.Crc32C);
        crc.Append(keyBytes);
        crc.Append(value);
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>The smallest key above every key with this prefix, or null if there is none (all 0xFF).</summary>
    private static byte[]? PrefixUpperBound(byte[] prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] == 0xFF) continue;
            var bound = prefix.AsSpan(0, i + 1).ToArray();
            bound[i]++;
            return bound;
        }
        return null;
    }
}
