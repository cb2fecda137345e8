using Kv.Storage.Encoding;
using RocksDbSharp;

namespace Kv.Storage.Ranges;

/// <summary>
/// The data-CF keys of a <see cref="RangeSpan"/>: <c>[Lower, Upper)</c> of encoded keys, <see cref="Upper"/>
/// null when the span is unbounded (KeyEncoding keeps user-key order, so this is exactly the span's data).
/// </summary>
internal sealed class EncodedSpan
{
    public EncodedSpan(RangeSpan span)
    {
        Span = span;
        Lower = KeyEncoding.SpanStart(span.Start.Span);
        Upper = span.IsUnbounded ? null : KeyEncoding.SpanStart(span.End.Span);
    }

    public RangeSpan Span { get; }

    public byte[] Lower { get; }

    public byte[]? Upper { get; }

    public bool Contains(ReadOnlySpan<byte> encodedKey) =>
        encodedKey.SequenceCompareTo(Lower) >= 0 && (Upper is null || encodedKey.SequenceCompareTo(Upper) < 0);

    /// <summary>Read options bounded to the span, verifying block checksums, optionally at a snapshot.</summary>
    public ReadOptions NewReadOptions(Snapshot? snapshot)
    {
        var options = new ReadOptions().SetVerifyChecksums(true).SetIterateLowerBound(Lower);
        if (Upper is not null) options.SetIterateUpperBound(Upper);
        if (snapshot is not null) options.SetSnapshot(snapshot);
        return options;
    }

    /// <summary>
    /// The exclusive end for a range tombstone or a size query. A bounded span has one; an unbounded span has
    /// no finite key above every possible key (a key of n 0xFF bytes is below one of n+1), so the end is the
    /// successor of the last key present now, or null when the span holds nothing. Callers must be the span's
    /// only writer, or a key written after this call and above that last key escapes the tombstone.
    /// </summary>
    public byte[]? ResolveUpper(NodeStore store)
    {
        if (Upper is not null) return Upper;
        using var iterator = store.Db.NewIterator(store.Data, NewReadOptions(snapshot: null));
        iterator.SeekToLast();
        if (!iterator.Valid())
        {
            ThrowIfFailed(iterator, $"finding the last key of range {Span}");
            return null;
        }
        return [.. iterator.GetKeySpan(), 0x00]; // the smallest key above the last one
    }

    /// <summary>
    /// An iterator stops being valid at the end of its bounds or on an error; only the status tells which.
    /// Corruption (a block checksum mismatch) becomes <see cref="StorageCorruptionException"/>.
    /// </summary>
    public static void ThrowIfFailed(Iterator iterator, string activity)
    {
        try
        {
            Native.Instance.rocksdb_iter_get_error(iterator.Handle);
        }
        catch (RocksDbException e) when (e.Message.Contains("Corruption", StringComparison.OrdinalIgnoreCase))
        {
            throw new StorageCorruptionException($"Corrupt data while {activity}: {e.Message}", e);
        }
    }
}
