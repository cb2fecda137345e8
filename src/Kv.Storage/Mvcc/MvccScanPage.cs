namespace Kv.Storage.Mvcc;

/// <summary>One user key of a scan page: its value, or the staged version found on it.</summary>
/// <param name="Key">The user key.</param>
/// <param name="Result">
/// <see cref="MvccReadStatus.Value"/> or <see cref="MvccReadStatus.StagedVersionEncountered"/>; scans never
/// return <see cref="MvccReadStatus.Absent"/> keys.
/// </param>
public readonly record struct MvccScanEntry(byte[] Key, MvccReadResult Result);

/// <summary>
/// A page of a scan, in scan order. When <see cref="ResumeKey"/> is not null the page is full and the scan may
/// go on: pass it back as the resume key to read the keys after it (in the scan's direction).
/// </summary>
public sealed class MvccScanPage
{
    internal MvccScanPage(MvccScanEntry[] entries, byte[]? resumeKey, long versionsExamined)
    {
        Entries = entries;
        ResumeKey = resumeKey;
        VersionsExamined = versionsExamined;
    }

    /// <summary>Keys with a value or a staged version, in scan order; at most the scan's limit.</summary>
    public IReadOnlyList<MvccScanEntry> Entries { get; }

    /// <summary>The last key of a full page, to resume after; null when the span is exhausted.</summary>
    public byte[]? ResumeKey { get; }

    /// <summary>Versions the scan read the key of (staged and committed); a cost measure for callers.</summary>
    public long VersionsExamined { get; }
}
