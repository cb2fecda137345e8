namespace Kv.Storage.Mvcc;

/// <summary>What one <see cref="MvccStore.CollectGarbage"/> pass did.</summary>
/// <param name="KeysExamined">User keys of the span with at least one committed version.</param>
/// <param name="VersionsRemoved">Committed versions deleted (tombstones included).</param>
/// <param name="TombstonesRemoved">Of those, tombstones that were the newest version at or below the threshold.</param>
public readonly record struct GarbageCollectionCounts(long KeysExamined, long VersionsRemoved, long TombstonesRemoved);
