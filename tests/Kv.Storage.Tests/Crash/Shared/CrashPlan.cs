namespace Kv.Storage.Tests.Crash;

/// <summary>What each crash round does, shared by the test and the soak so that both cover the same cases.</summary>
public static class CrashPlan
{
    /// <summary>Rotates: 64 writers through the group committer, 8 through it, 4 with direct synced writes.</summary>
    public static (CrashWriteMode Mode, int Writers) ModeFor(int round) => (round % 3) switch
    {
        0 => (CrashWriteMode.Group, 64),
        1 => (CrashWriteMode.Group, 8),
        _ => (CrashWriteMode.Direct, 4),
    };

    /// <summary>
    /// When to kill: usually 0–300 ms after the first acknowledgement; every eighth round 0–1500 ms after the start,
    /// which may hit the child while it starts, creates or recovers the database.
    /// </summary>
    public static (int KillDelayMs, bool KillFromStart) KillFor(int round, Random random) =>
        round % 8 == 7 ? (random.Next(0, 1500), true) : (random.Next(0, 300), false);
}
