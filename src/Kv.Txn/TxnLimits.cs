namespace Kv.Txn;

/// <summary>
/// Time limits every replica of a range must agree on (they decide what commands do, so they are constants,
/// not settings): a stage older than <see cref="StageAgeMax"/> is refused, and what a range remembers about a
/// finished transaction is kept for <see cref="Retention"/>. Retention exceeds the stage age by a margin for clock
/// offset, so a stage delayed past the retention is refused for its age.
/// </summary>
public static class TxnLimits
{
    /// <summary>How far a stage's commit timestamp may lag behind the log's timestamp when it applies.</summary>
    public static readonly TimeSpan StageAgeMax = TimeSpan.FromSeconds(30);

    /// <summary>How long finished records, refusal markers and read floors are remembered.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromSeconds(60);

    /// <summary>How often (in log time) a range sweeps out what the retention let go.</summary>
    public static readonly TimeSpan ExpiryInterval = TimeSpan.FromSeconds(1);

    /// <summary>Keys (writes and reads) one transaction may lock.</summary>
    public const int KeysMax = 10_000;
}
