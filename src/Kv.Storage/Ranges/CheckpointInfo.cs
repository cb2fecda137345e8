namespace Kv.Storage.Ranges;

/// <summary>A checkpoint made by <see cref="NodeCheckpoint.CheckpointAsync"/>.</summary>
/// <param name="Directory">Where it is; open it with <see cref="NodeCheckpoint.OpenCheckpoint"/>.</param>
/// <param name="FileCount">Files in the directory.</param>
/// <param name="SizeBytes">Their total length. SST files are hard links shared with the source, so this is
/// not new disk space: only the small metadata files (and SSTs the source later compacts away) cost space.</param>
public sealed record CheckpointInfo(string Directory, int FileCount, long SizeBytes);
