using Google.Protobuf;
using Kv.Storage.Mvcc;

namespace Kv.Server.Api;

/// <summary>How a scan is cut into pages that never cross a range boundary (KvService.Scan, TransactionsService.Scan).</summary>
internal static class ScanPaging
{
    /// <summary>
    /// Adds the page's entries (value and version) to <paramref name="entries"/> until their keys and values reach
    /// <paramref name="bytesMax"/> (always at least one); true when it stopped early for that reason.
    /// </summary>
    public static bool AddEntries(MvccScanPage page, Google.Protobuf.Collections.RepeatedField<Kv.Proto.V1.KeyValue> entries, long bytesMax)
    {
        long bytes = 0;
        foreach (var entry in page.Entries)
        {
            long entryBytes = entry.Key.Length + (entry.Result.Value?.Length ?? 0);
            if (entries.Count > 0 && bytes + entryBytes > bytesMax) return true;
            bytes += entryBytes;
            var version = entry.Result.VersionTimestamp;
            entries.Add(new Kv.Proto.V1.KeyValue
            {
                Key = UnsafeByteOperations.UnsafeWrap(entry.Key),
                Value = UnsafeByteOperations.UnsafeWrap(entry.Result.Value ?? []),
                Version = new Kv.Proto.V1.Timestamp { WallNanos = version.WallNanos, Logical = version.Logical },
            });
        }
        return false;
    }

    /// <summary>
    /// Where the next page starts: after the page's last key (forward) or at it (reverse) when the page is full, else
    /// at the range's boundary when the scan goes on past it, else nowhere (empty).
    /// </summary>
    public static ByteString ResumeKey(bool reverse, ByteString startKey, ByteString endKey, RangeRoute route, ByteString? lastKey, bool full)
    {
        if (full && lastKey is { } last)
        {
            if (reverse) return last;
            var after = new byte[last.Length + 1];
            last.Span.CopyTo(after);
            return UnsafeByteOperations.UnsafeWrap(after);
        }
        if (reverse)
        {
            // The scan goes on below this range when the range starts above the scan's start.
            return route.Span.Start.AsSpan().SequenceCompareTo(startKey.Span) > 0
                ? ByteString.CopyFrom(route.Span.Start)
                : ByteString.Empty;
        }
        // The scan goes on past this range when the range ends before the scan's end (or the scan has none).
        return route.Span.End is { } rangeEnd && (endKey.IsEmpty || rangeEnd.AsSpan().SequenceCompareTo(endKey.Span) < 0)
            ? ByteString.CopyFrom(rangeEnd)
            : ByteString.Empty;
    }

    /// <summary>The part of <paramref name="span"/> inside the range; the locator guarantees they overlap.</summary>
    public static KeySpan Clip(KeySpan span, KeySpan range)
    {
        byte[] start = span.Start.AsSpan().SequenceCompareTo(range.Start) >= 0 ? span.Start : range.Start;
        byte[]? end = span.End is null ? range.End
            : range.End is null ? span.End
            : span.End.AsSpan().SequenceCompareTo(range.End) <= 0 ? span.End : range.End;
        return new KeySpan(start, end);
    }
}
