using System.Buffers;
using Kv.Storage.Encoding;
using RocksDbSharp;

namespace Kv.Storage.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Reads the keys of <paramref name="span"/> at <paramref name="readTimestamp"/>, in ascending order or, with
    /// <paramref name="reverse"/>, descending. Each key reads as <see cref="Get"/> would: keys whose newest
    /// committed version at or below the read timestamp is a tombstone (or that have none) are skipped, and a
    /// key with a staged version at or below the read timestamp is returned as a
    /// <see cref="MvccReadStatus.StagedVersionEncountered"/> entry (with its committed value, if any), so the
    /// caller learns every transaction it must resolve from one page.
    /// </summary>
    /// <param name="span">The user keys to read.</param>
    /// <param name="readTimestamp">The read timestamp.</param>
    /// <param name="limit">Most entries in the page (values and staged encounters), at least 1.</param>
    /// <param name="reverse">Descending order.</param>
    /// <param name="resumeKey">
    /// A previous page's <see cref="MvccScanPage.ResumeKey"/>: this page starts after it in the scan's direction.
    /// </param>
    /// <param name="snapshot">
    /// Read as of this RocksDB snapshot; null reads the current state. Pass the same snapshot to every page for
    /// a scan that sees one state.
    /// </param>
    /// <exception cref="StorageCorruptionException">A version in the span failed its checks.</exception>
    public MvccScanPage Scan(
        KeySpan span, Timestamp readTimestamp, int limit, bool reverse = false, byte[]? resumeKey = null, Snapshot? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(span.Start, nameof(span));
        ValidateTimestamp(readTimestamp, nameof(readTimestamp));
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ValidateResumeKey(span, resumeKey);

        // Entries gather in a pooled array and leave in one of their exact count: a growing list left about
        // 1.8 entries of garbage per entry (≈ 130 bytes per scanned key).
        var entries = ArrayPool<MvccScanEntry>.Shared.Rent(Math.Min(limit, EntriesInitial));
        int count = 0;
        byte[] buffer = Rent(256);
        byte[] candidate = Rent(256);
        // Reverse pages end before the resume key: it becomes the upper bound.
        using var cursor = OpenSpan(span, snapshot, reverse ? resumeKey : null);
        try
        {
            if (reverse)
            {
                cursor.SeekToLast();
            }
            else if (resumeKey is not null)
            {
                CopyPrefix(KeyEncoding.UserKeyPrefix(resumeKey), ref buffer);
                int resumeLength = KeyEncoding.EscapedLength(resumeKey);
                DataKeys.SetPrefixEnd(buffer.AsSpan(0, resumeLength), end: true);
                cursor.Seek(buffer, resumeLength);
            }
            else
            {
                cursor.SeekToFirst();
            }

            while (count < limit && cursor.Valid())
            {
                int prefixLength = CurrentPrefixLength(cursor);
                CopyPrefix(cursor.Key[..prefixLength], ref buffer);
                var result = reverse
                    ? ReadVersionsBackward(cursor, buffer, prefixLength, readTimestamp, ref candidate)
                    : ReadVersions(cursor, buffer, prefixLength, readTimestamp, advancePastKey: true);
                if (result.Status == MvccReadStatus.Absent) continue;
                if (count == entries.Length) entries = Grow(entries, limit);
                entries[count++] = new MvccScanEntry(DataKeys.Unescape(buffer.AsSpan(0, prefixLength)), result);
            }
            byte[]? nextResume = count == limit ? entries[count - 1].Key : null;
            return new MvccScanPage(entries.AsSpan(0, count).ToArray(), nextResume, cursor.KeysRead);
        }
        finally
        {
            // Cleared: a pooled array must not keep the page's keys and values alive.
            entries.AsSpan(0, count).Clear();
            ArrayPool<MvccScanEntry>.Shared.Return(entries);
            Return(buffer);
            Return(candidate);
        }
    }

    /// <summary>Entries a scan's gathering array starts with (it doubles up to the scan's limit).</summary>
    private const int EntriesInitial = 256;

    private static MvccScanEntry[] Grow(MvccScanEntry[] entries, int limit)
    {
        var larger = ArrayPool<MvccScanEntry>.Shared.Rent((int)Math.Min((long)entries.Length * 2, limit));
        entries.CopyTo(larger, 0);
        ArrayPool<MvccScanEntry>.Shared.Return(entries, clearArray: true);
        return larger;
    }
}
