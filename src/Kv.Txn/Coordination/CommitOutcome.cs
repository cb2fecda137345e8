using Google.Protobuf;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>How a commit ended.</summary>
public enum CommitStatus
{
    /// <summary>Committed at <see cref="CommitOutcome.CommitTimestamp"/>.</summary>
    Committed,

    /// <summary>Aborted by a conflict or a lost race; running the transaction again may succeed.</summary>
    Conflict,
}

/// <summary>The outcome of a commit.</summary>
/// <param name="Status">Committed or aborted.</param>
/// <param name="CommitTimestamp">The commit timestamp (committed only).</param>
/// <param name="Reason">Why it aborted.</param>
/// <param name="Key">The key that caused the abort, when one did.</param>
/// <param name="ConflictingTxn">The transaction that held that key, when one did.</param>
public sealed record CommitOutcome(CommitStatus Status, StorageTimestamp CommitTimestamp, string Reason, ByteString? Key = null, ByteString? ConflictingTxn = null)
{
    /// <summary>A commit.</summary>
    public static CommitOutcome Committed(StorageTimestamp at) => new(CommitStatus.Committed, at, "");
}

/// <summary>
/// The coordinator could not learn whether the transaction committed (a range it must hear from was unreachable
/// for the whole call). The transaction is decided all-or-nothing either way; reading its keys tells which.
/// </summary>
public sealed class TxnOutcomeUnknownException(string message, Exception? inner = null) : Exception(message, inner);
