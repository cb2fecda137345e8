namespace Kv.Server.Snapshots;

/// <summary>The boundaries of a snapshot's creation where tests stop its coordinator (<see cref="ISnapshotFailPoints"/>).</summary>
internal enum SnapshotStep
{
    /// <summary>Every range's piece is chosen; no checkpoint taken.</summary>
    AfterPieces,

    /// <summary>Checkpoints taken; the manifest not proposed.</summary>
    BeforeManifest,
}

/// <summary>A test hook that stops a snapshot's coordinator at a step (as a crash there would).</summary>
internal interface ISnapshotFailPoints
{
    /// <summary>Called at <paramref name="step"/>; throws to stop the coordinator.</summary>
    ValueTask ReachedAsync(SnapshotStep step, string snapshotId, CancellationToken cancellationToken);
}

/// <summary>Test-only broken variants of the pieces, to show that the consistency test catches them.</summary>
internal enum SnapshotPieceVariant
{
    /// <summary>The real piece: close the timestamp, refuse while a transaction is staged at or below it.</summary>
    Correct,

    /// <summary>Broken: neither closes the timestamp nor checks for staged transactions.</summary>
    SkipCloseAndLockCheck,
}
