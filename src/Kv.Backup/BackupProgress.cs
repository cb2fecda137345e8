namespace Kv.Backup;

/// <summary>Where long backup work stands, for a progress bar: bytes (and files) done out of the total known so far.</summary>
/// <param name="Stage">What runs: "export", "verify" or "restore".</param>
/// <param name="File">The file being worked on.</param>
/// <param name="BytesDone">Bytes processed so far.</param>
/// <param name="BytesTotal">Bytes to process (an estimate during export: the ranges' approximate sizes).</param>
/// <param name="FilesDone">Files finished.</param>
/// <param name="FilesTotal">Files in all.</param>
public readonly record struct BackupProgress(string Stage, string File, long BytesDone, long BytesTotal, int FilesDone, int FilesTotal);

/// <summary>
/// Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool, so its reports may
/// arrive late or out of order): for logs, tests and progress bars drawn by the caller.
/// </summary>
public sealed class InlineProgress(Action<BackupProgress> report) : IProgress<BackupProgress>
{
    /// <inheritdoc />
    public void Report(BackupProgress value) => report(value);
}
