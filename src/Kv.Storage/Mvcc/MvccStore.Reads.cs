using Kv.Storage.Encoding;
using RocksDbSharp;

namespace Kv.Storage.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Reads <paramref name="key"/> at <paramref name="readTimestamp"/>: the newest committed version at or below
    /// it (a value, or a tombstone that reads as absent), and the key's staged version if its provisional
    /// timestamp is at or below the read timestamp (<see cref="MvccReadStatus.StagedVersionEncountered"/>).
    /// A staged version above the read timestamp is invisible.
    /// </summary>
    /// <param name="key">The user key.</param>
    /// <param name="readTimestamp">The read timestamp; <see cref="Timestamp.Max"/> reads the latest.</param>
    /// <param name="snapshot">Read as of this RocksDB snapshot; null reads the current state.</param>
    /// <exception cref="StorageCorruptionException">A version of the key failed its checks.</exception>
    public MvccReadResult Get(ReadOnlySpan<byte> key, Timestamp readTimestamp, Snapshot? snapshot = null)
    {
        ValidateKey(key, nameof(key));
        ValidateTimestamp(readTimestamp, nameof(readTimestamp));
        byte[] buffer = RentPrefix(key, out int prefixLength);
        var cursor = RentPointCursor(snapshot);
        bool healthy = false;
        try
        {
            buffer[prefixLength] = KeyEncoding.StagedMarker;
            cursor.Seek(buffer, prefixLength + DataKeys.StagedSuffixLength);
            var result = ReadVersions(cursor, buffer, prefixLength, readTimestamp, advancePastKey: false);
            healthy = true;
            return result;
        }
        finally
        {
            ReleasePointCursor(cursor, snapshot, healthy);
            Return(buffer);
        }
    }

    /// <summary>Reads the staged version of <paramref name="key"/>, whoever owns it; false when there is none.</summary>
    /// <exception cref="StorageCorruptionException">The staged version failed its checks.</exception>
    public bool TryGetStaged(ReadOnlySpan<byte> key, out StagedVersion staged, Snapshot? snapshot = null)
    {
        ValidateKey(key, nameof(key));
        byte[] buffer = RentPrefix(key, out int prefixLength);
        var cursor = RentPointCursor(snapshot);
        bool healthy = false;
        try
        {
            int stagedKeyLength = prefixLength + DataKeys.StagedSuffixLength;
            buffer[prefixLength] = KeyEncoding.StagedMarker;
            cursor.Seek(buffer, stagedKeyLength);
            bool exists = cursor.Valid() && cursor.Key.SequenceEqual(buffer.AsSpan(0, stagedKeyLength));
            staged = default;
            if (exists)
            {
                var payload = MvccValue.ReadStaged(cursor.Record(), cursor.KeyLength, out var txnId, out var provisional, out bool tombstone);
                staged = new StagedVersion(txnId, provisional, tombstone, payload.ToArray());
            }
            healthy = true;
            return exists;
        }
        finally
        {
            ReleasePointCursor(cursor, snapshot, healthy);
            Return(buffer);
        }
    }

    /// <summary>
    /// Reads one user key going forward, the cursor at its first entry (or wherever a seek to its staged key
    /// landed). With <paramref name="advancePastKey"/> the cursor ends at the next user key's first entry.
    /// <paramref name="buffer"/> holds the key's prefix and has room for a committed suffix after it.
    /// </summary>
    private static MvccReadResult ReadVersions(
        DataCursor cursor, byte[] buffer, int prefixLength, Timestamp readTimestamp, bool advancePastKey)
    {
        var prefix = buffer.AsSpan(0, prefixLength);
        if (!cursor.Valid() || !cursor.Key.StartsWith(prefix)) return default;

        StagedIntent staged = default;
        bool stagedVisible = false;
        if (DataKeys.IsStagedSuffix(cursor.Key[prefixLength..]))
        {
            var intent = MvccValue.ReadStagedIntent(cursor.Record(), cursor.KeyLength);
            if (intent.ProvisionalTimestamp <= readTimestamp)
            {
                staged = intent;
                stagedVisible = true;
            }
            cursor.Next();
        }

        // Committed versions follow, newest first: the first at or below the read timestamp is the one.
        byte[]? value = null;
        var versionTimestamp = Timestamp.Zero;
        bool found = false;
        bool sought = false;
        int steps = 0;
        while (cursor.Valid())
        {
            var key = cursor.Key;
            if (!key.StartsWith(prefix)) break;
            if (!DataKeys.TryReadCommittedSuffix(key[prefixLength..], out var timestamp))
                throw MvccValue.Corrupt(key, key.Length, "the version suffix is malformed");
            if (timestamp <= readTimestamp)
            {
                var payload = MvccValue.ReadCommitted(cursor.Record(), cursor.KeyLength, out bool tombstone);
                versionTimestamp = timestamp;
                if (!tombstone) value = payload.ToArray();
                found = true;
                break;
            }
            if (!sought && ++steps > SequentialStepsMax)
            {
                // Many versions above the read timestamp: jump to the first one at or below it.
                int targetLength = prefixLength + DataKeys.WriteCommittedSuffix(readTimestamp, buffer.AsSpan(prefixLength));
                cursor.Seek(buffer, targetLength);
                sought = true;
                continue;
            }
            cursor.Next();
        }
        // Without a match the loop already left the key.
        if (advancePastKey && found) AdvancePastKey(cursor, buffer, prefixLength);
        return Result(stagedVisible, staged, value, versionTimestamp);
    }

    /// <summary>
    /// Reads one user key going backward, the cursor at its last entry (its oldest version); leaves the cursor at
    /// the previous user key's last entry. Versions come oldest first: the newest at or below the read timestamp
    /// is the last one seen before a newer one, so its record is kept aside until the key is done.
    /// </summary>
    private static MvccReadResult ReadVersionsBackward(
        DataCursor cursor, byte[] buffer, int prefixLength, Timestamp readTimestamp, ref byte[] candidate)
    {
        var prefix = buffer.AsSpan(0, prefixLength);
        StagedIntent staged = default;
        bool stagedVisible = false;
        bool newerSeen = false;
        int candidateLength = 0, candidateKeyLength = 0;
        var candidateTimestamp = Timestamp.Zero;
        int steps = 0;
        while (cursor.Valid() && cursor.Key.StartsWith(prefix))
        {
            if (++steps > SequentialStepsMax)
            {
                // Many versions: read the key forward with seeks, then jump before it.
                buffer[prefixLength] = KeyEncoding.StagedMarker;
                cursor.Seek(buffer, prefixLength + DataKeys.StagedSuffixLength);
                var result = ReadVersions(cursor, buffer, prefixLength, readTimestamp, advancePastKey: false);
                cursor.SeekForPrev(buffer, prefixLength);
                return result;
            }
            var key = cursor.Key;
            var suffix = key[prefixLength..];
            if (DataKeys.IsStagedSuffix(suffix))
            {
                var intent = MvccValue.ReadStagedIntent(cursor.Record(), cursor.KeyLength);
                if (intent.ProvisionalTimestamp <= readTimestamp)
                {
                    staged = intent;
                    stagedVisible = true;
                }
            }
            else if (!DataKeys.TryReadCommittedSuffix(suffix, out var timestamp))
            {
                throw MvccValue.Corrupt(key, key.Length, "the version suffix is malformed");
            }
            else if (!newerSeen)
            {
                if (timestamp <= readTimestamp)
                {
                    candidateLength = cursor.CopyRecord(ref candidate, prefetchPrevious: true);
                    candidateKeyLength = cursor.KeyLength;
                    candidateTimestamp = timestamp;
                }
                else
                {
                    newerSeen = true;
                }
            }
            cursor.Prev();
        }

        byte[]? value = null;
        if (candidateLength > 0)
        {
            var payload = MvccValue.ReadCommitted(candidate.AsSpan(0, candidateLength), candidateKeyLength, out bool tombstone);
            if (!tombstone) value = payload.ToArray();
        }
        return Result(stagedVisible, staged, value, candidateTimestamp);
    }

    private static MvccReadResult Result(bool stagedVisible, StagedIntent staged, byte[]? value, Timestamp versionTimestamp)
    {
        var status = stagedVisible ? MvccReadStatus.StagedVersionEncountered
            : value is not null ? MvccReadStatus.Value
            : MvccReadStatus.Absent;
        return new MvccReadResult(status, value, versionTimestamp, staged);
    }
}
