using System.Buffers;
using Kv.Storage.Encoding;

namespace Kv.Storage.Mvcc;

/// <summary>
/// Multi-version user data and staged (transactional) versions in the data column family of a
/// <see cref="NodeStore"/> (layout and read rules: docs/storage-mvcc.md). Storage knows no transaction rules:
/// it stages, publishes and removes versions when told to, and tells readers whose staged version they met.
/// <para>
/// Writes are added to a caller's <see cref="RocksDbSharp.WriteBatch"/> so that a replica applies many commands
/// in one atomic write; the convenience overloads without a batch write synchronously. Reads verify block
/// checksums and each value's CRC32C, take an optional snapshot, and never return corrupt data: they throw
/// <see cref="StorageCorruptionException"/> naming the user key. The store may be used from several threads.
/// It keeps a few RocksDB iterators for reuse: dispose it after its last operation has returned and before
/// the <see cref="NodeStore"/>.
/// </para>
/// </summary>
public sealed partial class MvccStore : IDisposable
{
    /// <summary>Longest user key accepted, in bytes.</summary>
    public const int UserKeyBytesMax = 16 * 1024;

    /// <summary>Longest value accepted, in bytes.</summary>
    public const int ValueBytesMax = 32 * 1024 * 1024;

    /// <summary>
    /// Versions of one key stepped over one at a time before a read seeks past the rest instead: a seek costs a
    /// few steps, and a key may have thousands of versions.
    /// </summary>
    internal const int SequentialStepsMax = 8;

    /// <summary>Idle iterators kept for reads of the latest state.</summary>
    private static int IdleIteratorsMax => Math.Max(2, Environment.ProcessorCount);

    private readonly NodeStore _store;
    private readonly CursorPool _pool;

    /// <summary>Creates the store over <paramref name="store"/>'s data column family.</summary>
    public MvccStore(NodeStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _pool = new CursorPool(store, IdleIteratorsMax);
    }

    /// <summary>The node database underneath.</summary>
    public NodeStore Store => _store;

    /// <summary>Destroys the kept iterators. Operations must have returned; the NodeStore stays open.</summary>
    public void Dispose() => _pool.Dispose();

    /// <summary>
    /// An unbounded cursor for point lookups: a pooled one for the latest state, a new one under a snapshot.
    /// Give it back with <see cref="ReleasePointCursor"/>.
    /// </summary>
    private DataCursor RentPointCursor(RocksDbSharp.Snapshot? snapshot) =>
        snapshot is null ? _pool.Rent() : DataCursor.Open(_store, snapshot, null, 0, null, 0, subject: null);

    private void ReleasePointCursor(DataCursor cursor, RocksDbSharp.Snapshot? snapshot, bool healthy)
    {
        if (snapshot is null) _pool.Return(cursor, healthy);
        else cursor.Dispose();
    }

    private static void ValidateKey(ReadOnlySpan<byte> key, string parameterName)
    {
        if (key.IsEmpty)
            throw new ArgumentException("A user key must not be empty (the empty key only starts spans).", parameterName);
        if (key.Length > UserKeyBytesMax)
            throw new ArgumentException(
                $"A user key of {key.Length} bytes is longer than {nameof(UserKeyBytesMax)} ({UserKeyBytesMax}).", parameterName);
    }

    private static void ValidateTimestamp(Timestamp timestamp, string parameterName)
    {
        // The key encoding inverts the components as unsigned numbers: negative ones would sort wrongly.
        if (timestamp <= Timestamp.Zero || timestamp.Logical < 0)
            throw new ArgumentOutOfRangeException(
                parameterName, timestamp, "A timestamp must be above Timestamp.Zero with a non-negative logical counter.");
    }

    private static void ValidateValue(ReadOnlySpan<byte> value, string parameterName)
    {
        if (value.Length > ValueBytesMax)
            throw new ArgumentException(
                $"A value of {value.Length} bytes is longer than {nameof(ValueBytesMax)} ({ValueBytesMax}).", parameterName);
    }

    private static void ValidateTxnId(TxnId txnId, string parameterName)
    {
        if (txnId.IsEmpty) throw new ArgumentException("The all-zero transaction id is reserved.", parameterName);
    }

    private static void ValidateResumeKey(KeySpan span, byte[]? resumeKey)
    {
        if (resumeKey is null) return;
        ValidateKey(resumeKey, nameof(resumeKey));
        if (!span.Contains(resumeKey))
            throw new ArgumentException($"The resume key {KeyText.Printable(resumeKey)} lies outside the span {span}.", nameof(resumeKey));
    }

    private static byte[] Rent(int length) => ArrayPool<byte>.Shared.Rent(length);

    private static void Return(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);

    /// <summary>A pooled buffer holding the prefix of <paramref name="userKey"/> with room for a committed suffix.</summary>
    private static byte[] RentPrefix(ReadOnlySpan<byte> userKey, out int prefixLength)
    {
        var buffer = Rent(KeyEncoding.EscapedLength(userKey) + KeyEncoding.CommittedSuffixLength);
        prefixLength = DataKeys.WritePrefix(userKey, buffer);
        return buffer;
    }

    /// <summary>Copies <paramref name="prefix"/> to the start of <paramref name="buffer"/>, growing it to fit a committed suffix too.</summary>
    private static void CopyPrefix(ReadOnlySpan<byte> prefix, ref byte[] buffer)
    {
        int needed = prefix.Length + KeyEncoding.CommittedSuffixLength;
        if (buffer.Length < needed)
        {
            Return(buffer);
            buffer = Rent(needed);
        }
        prefix.CopyTo(buffer);
    }

    /// <summary>
    /// Opens a cursor bounded to the encoded keys of <paramref name="span"/>, the span end (exclusive) lowered to
    /// <paramref name="upperUserKey"/> when given.
    /// </summary>
    private DataCursor OpenSpan(KeySpan span, RocksDbSharp.Snapshot? snapshot, byte[]? upperUserKey)
    {
        byte[] lower = RentPrefix(span.Start, out int lowerLength);
        byte[]? upperKey = upperUserKey ?? span.End;
        byte[]? upper = null;
        int upperLength = 0;
        try
        {
            if (upperKey is not null) upper = RentPrefix(upperKey, out upperLength);
            return DataCursor.Open(_store, snapshot, lower, lowerLength, upper, upperLength, $"span {span}");
        }
        finally
        {
            Return(lower);
            if (upper is not null) Return(upper);
        }
    }

    /// <summary>
    /// From any version of the key with prefix <c>buffer[..prefixLength]</c>, moves to the first entry of the
    /// next user key: steps over a few versions, then seeks past the rest.
    /// </summary>
    private static void AdvancePastKey(DataCursor cursor, byte[] buffer, int prefixLength)
    {
        var prefix = buffer.AsSpan(0, prefixLength);
        for (int step = 0; step < SequentialStepsMax; step++)
        {
            cursor.Next();
            if (!cursor.Valid() || !cursor.Key.StartsWith(prefix)) return;
        }
        DataKeys.SetPrefixEnd(prefix, end: true);
        cursor.Seek(buffer, prefixLength);
        DataKeys.SetPrefixEnd(prefix, end: false);
    }

    /// <summary>The prefix length of the cursor's current key; throws corruption when it is malformed.</summary>
    private static int CurrentPrefixLength(DataCursor cursor)
    {
        var key = cursor.Key;
        int prefixLength = DataKeys.PrefixLength(key);
        if (prefixLength < 0 || key.Length == prefixLength)
            throw MvccValue.Corrupt(key, key.Length, "the encoded key is malformed");
        return prefixLength;
    }
}
