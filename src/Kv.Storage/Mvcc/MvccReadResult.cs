using Kv.Storage.Encoding;

namespace Kv.Storage.Mvcc;

/// <summary>What a read of one user key at a read timestamp found.</summary>
public enum MvccReadStatus : byte
{
    /// <summary>
    /// No value: no committed version at or below the read timestamp, or the newest one is a tombstone; no
    /// staged version at or below the read timestamp.
    /// </summary>
    Absent = 0,

    /// <summary>The newest committed version at or below the read timestamp holds a value.</summary>
    Value = 1,

    /// <summary>
    /// A staged version whose provisional timestamp is at or below the read timestamp: its transaction decides
    /// what the reader may see. The committed version below it is reported alongside.
    /// </summary>
    StagedVersionEncountered = 2,
}

/// <summary>The transaction that owns a staged version, and the timestamp it staged it at.</summary>
/// <param name="TxnId">The owner.</param>
/// <param name="ProvisionalTimestamp">The transaction's provisional timestamp recorded with the version.</param>
public readonly record struct StagedIntent(TxnId TxnId, Timestamp ProvisionalTimestamp);

/// <summary>
/// The outcome of reading one user key at a read timestamp. <see cref="Value"/> and
/// <see cref="VersionTimestamp"/> always describe the newest committed version at or below the read timestamp,
/// also when a staged version was encountered, so a reader that learns the staged transaction aborted (or
/// committed above its timestamp) needs no second read.
/// </summary>
/// <param name="Status">What was found.</param>
/// <param name="Value">The committed value, or null when there is none or it is a tombstone.</param>
/// <param name="VersionTimestamp">
/// The commit timestamp of the newest committed version at or below the read timestamp (a tombstone's too), or
/// <see cref="Timestamp.Zero"/> when there is none.
/// </param>
/// <param name="Staged">The encountered staged version when <see cref="Status"/> says so; default otherwise.</param>
public readonly record struct MvccReadResult(MvccReadStatus Status, byte[]? Value, Timestamp VersionTimestamp, StagedIntent Staged)
{
    /// <summary>True when the key has a visible value (<see cref="MvccReadStatus.Value"/>).</summary>
    public bool HasValue => Status == MvccReadStatus.Value;
}
