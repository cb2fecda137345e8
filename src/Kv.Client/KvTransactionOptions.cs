namespace Kv.Client;

/// <summary>How a transaction's commit decision is made. Both stage the writes in every range they touch through its Paxos log.</summary>
public enum KvCommitProtocol
{
    /// <summary>The cluster's default (the node's <c>TxnCommitProtocol</c> setting; Paxos commit unless changed).</summary>
    Default,

    /// <summary>
    /// Paxos commit: the decision is a manifest in the Paxos log of the transaction's home range, written in parallel
    /// with the stages. Nobody waits for a crashed coordinator.
    /// </summary>
    Paxos,

    /// <summary>
    /// Classic two-phase commit (the baseline): the coordinating node logs the decision after every range is
    /// prepared. If it dies in between, the prepared keys wait for it to return.
    /// </summary>
    TwoPhase,
}

/// <summary>How a transaction's reads relate to concurrent writes.</summary>
public enum KvIsolation
{
    /// <summary>
    /// Serializable (the default): every read is checked at commit, and the commit fails (and the body runs again)
    /// if a key it read changed, or a key appeared in a span it scanned.
    /// </summary>
    Serializable,

    /// <summary>
    /// Snapshot isolation: reads come from a stable snapshot at the transaction's read timestamp and are not checked;
    /// only a concurrent write of a key it writes makes the commit fail (first committer wins). Allows write skew.
    /// </summary>
    Snapshot,
}

/// <summary>
/// Settings of a transaction (<see cref="KvClient.BeginTransactionAsync(KvTransactionOptions?, CancellationToken)"/>) or of
/// a retried transaction body (<see cref="KvClient.RunTransactionAsync(Func{KvTransaction, Task}, KvTransactionOptions?, CancellationToken)"/>).
/// </summary>
public sealed record KvTransactionOptions
{
    /// <summary>How the commit is decided. Default: the cluster's default.</summary>
    public KvCommitProtocol Protocol { get; init; } = KvCommitProtocol.Default;

    /// <summary>Serializable (default) or snapshot isolation.</summary>
    public KvIsolation Isolation { get; init; } = KvIsolation.Serializable;

    /// <summary>
    /// A lock-free read-only transaction: every read comes from a stable snapshot at the read timestamp (the ranges
    /// promise that nothing will commit at or below it), nothing is validated or locked, and the commit sends nothing
    /// and cannot fail. Writes throw <see cref="InvalidOperationException"/>. The read timestamp is
    /// <see cref="ReadTimestamp"/> when set, else the cluster's now.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Read-only transactions only: read as of this timestamp (a version a previous call returned), e.g. to see
    /// several keys as they were together at one moment in the past. Null: now.
    /// </summary>
    public KvVersion? ReadTimestamp { get; init; }

    /// <summary>
    /// RunTransactionAsync only: how many times the body may run when its commits conflict (the first run included),
    /// 1 to 1,000. Default 10. When all conflict, <see cref="KvTransactionConflictException"/> is thrown.
    /// </summary>
    public int MaxAttempts { get; init; } = 10;

    /// <summary>
    /// RunTransactionAsync only: the backoff before the second attempt; it doubles per attempt, with jitter, up to
    /// <see cref="RetryBackoffMax"/>. Default 10 ms.
    /// </summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>RunTransactionAsync only: the largest backoff between attempts. Default 1 s.</summary>
    public TimeSpan RetryBackoffMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long one attempt may take, from its begin to the end of its commit (the body's own work included); null
    /// (the default) for no limit beyond each call's <see cref="KvClientOptions.OverallDeadline"/>. When it passes, the
    /// transaction's calls fail with <see cref="KvException"/> <see cref="KvErrorCode.DeadlineExceeded"/> (not retried),
    /// or, during the commit, with <see cref="KvTransactionOutcomeUnknownException"/>.
    /// </summary>
    public TimeSpan? AttemptTimeout { get; init; }

    /// <summary>
    /// Pessimistic reads against starvation: after this many attempts of a body ended in a conflict, RunTransactionAsync
    /// runs the next attempts with locking reads. Each read then first takes a shared read lock on its key (or scanned
    /// span) through the range's log and returns the newest version, so no other transaction can overwrite what the
    /// attempt read until it ends, and its commit cannot fail validation; lock conflicts are settled by age (wound-wait:
    /// the oldest transaction wins), and the SDK heartbeats the attempt while it holds locks. Default 2. 0: lock from the
    /// first attempt (also for <see cref="KvClient.BeginTransactionAsync(KvTransactionOptions?, CancellationToken)"/>).
    /// <c>null</c>: never (always optimistic). Used only by serializable read-write transactions with Paxos commit (the
    /// default protocol is then sent as Paxos); ignored with <see cref="ReadOnly"/>, <see cref="KvIsolation.Snapshot"/>
    /// or <see cref="KvCommitProtocol.TwoPhase"/>. A locking attempt's reads cost one consensus round each, and writers
    /// of the keys it read wait (or retry) until it ends — also a plain write of such a key made by the body itself
    /// outside the transaction, which then waits for its own transaction's lock until its deadline.
    /// </summary>
    public int? LockReadsAfterConflicts { get; init; } = 2;

    /// <summary>Whether an attempt after <paramref name="conflicts"/> conflicted ones reads with locks.</summary>
    internal bool LocksReads(int conflicts) =>
        LockReadsAfterConflicts is { } after && conflicts >= after && !ReadOnly && Isolation == KvIsolation.Serializable && Protocol != KvCommitProtocol.TwoPhase;

    internal void Validate()
    {
        if (!Enum.IsDefined(Protocol)) throw new ArgumentOutOfRangeException(nameof(Protocol), Protocol, "Unknown commit protocol.");
        if (!Enum.IsDefined(Isolation)) throw new ArgumentOutOfRangeException(nameof(Isolation), Isolation, "Unknown isolation.");
        if (ReadTimestamp is not null && !ReadOnly) throw new ArgumentException("ReadTimestamp is for read-only transactions (ReadOnly = true).", nameof(ReadTimestamp));
        if (MaxAttempts is < 1 or > 1_000) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "Must be 1 to 1,000.");
        if (RetryBackoff < TimeSpan.Zero || RetryBackoffMax < RetryBackoff)
            throw new ArgumentOutOfRangeException(nameof(RetryBackoff), RetryBackoff, "Must be 0 or more and at most RetryBackoffMax.");
        if (LockReadsAfterConflicts is < 0 or > 1_000)
            throw new ArgumentOutOfRangeException(nameof(LockReadsAfterConflicts), LockReadsAfterConflicts, "Must be 0 to 1,000, or null for never.");
        if (AttemptTimeout is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), t, "Must be positive (or null for none).");
    }
}
