namespace Kv.Storage.GroupCommit;

/// <summary>The writes of one batch that is in the log but not yet synced, waiting for the sync loop.</summary>
internal sealed record WrittenGroup(List<PendingWrite> Writes, long Bytes);
