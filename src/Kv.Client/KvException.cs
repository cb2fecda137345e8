namespace Kv.Client;

/// <summary>What went wrong, as a closed set a caller can switch on.</summary>
public enum KvErrorCode
{
    /// <summary>A status the client does not know.</summary>
    Unknown,

    /// <summary>The request is invalid (see <see cref="KvInvalidArgumentException.Field"/>); fix it, do not retry.</summary>
    InvalidArgument,

    /// <summary>No node could serve the request (unreachable, stopping, busy, or no leader) within the retries.</summary>
    Unavailable,

    /// <summary>The per-call timeout or the overall deadline passed. A write may still have applied.</summary>
    DeadlineExceeded,

    /// <summary>The write id is older than one already applied for this client (its answer is no longer kept).</summary>
    StaleWriteId,

    /// <summary>The key's range moved; retried requests did not find it.</summary>
    RangeMoved,

    /// <summary>The request or its answer is over a size limit; split it.</summary>
    ResourceExhausted,

    /// <summary>The server does not implement what was asked.</summary>
    Unimplemented,

    /// <summary>A node found corrupt data while serving.</summary>
    DataLoss,

    /// <summary>A server-side failure; report it.</summary>
    Internal,

    /// <summary>
    /// A transaction did not commit because of a conflict with another one (<see cref="KvTransactionConflictException"/>).
    /// Retryable: run the whole transaction again (<see cref="KvClient.RunTransactionAsync(Func{KvTransaction, Task}, CancellationToken)"/> does).
    /// </summary>
    TransactionConflict,

    /// <summary>
    /// A transaction's commit was sent but its outcome could not be learnt: it may have committed
    /// (<see cref="KvTransactionOutcomeUnknownException"/>). Not retryable blindly; read its keys to find out.
    /// </summary>
    TransactionOutcomeUnknown,
}

/// <summary>A Kv request that failed. <see cref="Code"/> says why; the message says what to do.</summary>
public class KvException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KvException(KvErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    /// <summary>Creates an <see cref="KvErrorCode.Unknown"/> exception (for serializers and tooling).</summary>
    public KvException() : this(KvErrorCode.Unknown, "Kv request failed.") { }

    /// <summary>Creates an <see cref="KvErrorCode.Unknown"/> exception with a message.</summary>
    public KvException(string message) : this(KvErrorCode.Unknown, message) { }

    /// <summary>Creates an <see cref="KvErrorCode.Unknown"/> exception with a message and cause.</summary>
    public KvException(string message, Exception innerException) : this(KvErrorCode.Unknown, message, innerException) { }

    /// <summary>Why the request failed.</summary>
    public KvErrorCode Code { get; }

    /// <summary>
    /// Whether a write that failed this way may still have applied (timeouts and unavailability after it was sent).
    /// Read the key to learn the outcome.
    /// </summary>
    public bool WriteMayHaveApplied { get; init; }
}

/// <summary>The request is invalid; the server refused it before applying anything. Never retried.</summary>
public sealed class KvInvalidArgumentException : KvException
{
    /// <summary>Creates the exception.</summary>
    public KvInvalidArgumentException(string field, string reason, Exception? innerException = null)
        : base(KvErrorCode.InvalidArgument, $"Invalid request field '{field}': {reason}. Fix the request; retrying it unchanged fails again.", innerException)
    {
        Field = field;
        Reason = reason;
    }

    /// <summary>Creates the exception without a field.</summary>
    public KvInvalidArgumentException() : this("", "invalid request") { }

    /// <summary>Creates the exception with a message as its reason.</summary>
    public KvInvalidArgumentException(string message) : this("", message) { }

    /// <summary>Creates the exception with a message as its reason and a cause.</summary>
    public KvInvalidArgumentException(string message, Exception innerException) : this("", message, innerException) { }

    /// <summary>The request field at fault (<c>key</c>, <c>value</c>, <c>limit</c>, <c>condition</c>, …).</summary>
    public string Field { get; }

    /// <summary>Why the field is invalid.</summary>
    public string Reason { get; }
}

/// <summary>No node could serve the request within the retries: unreachable, stopping, overloaded, or without a leader.</summary>
public sealed class KvUnavailableException : KvException
{
    /// <summary>Creates the exception.</summary>
    public KvUnavailableException(string message, Exception? innerException = null)
        : base(KvErrorCode.Unavailable, message, innerException) { }

    /// <summary>Creates the exception with a default message.</summary>
    public KvUnavailableException() : this("No Kv node could serve the request.") { }

    /// <summary>Creates the exception with a message.</summary>
    public KvUnavailableException(string message) : this(message, null) { }
}

/// <summary>
/// A transaction was aborted by a conflict (a key it read changed before it committed, or another transaction held
/// a key it writes). Nothing it wrote was applied. Retryable: run the whole transaction again with a new
/// <see cref="KvClient.BeginTransactionAsync(KvTransactionOptions?, CancellationToken)"/>;
/// <see cref="KvClient.RunTransactionAsync(Func{KvTransaction, Task}, CancellationToken)"/> does it for you and throws this
/// only when <see cref="KvTransactionOptions.MaxAttempts"/> attempts all conflicted.
/// </summary>
public sealed class KvTransactionConflictException : KvException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why the transaction aborted, as the server said.</param>
    /// <param name="key">The key that caused the abort; empty when none was named.</param>
    /// <param name="conflictingTransactionId">The id of the transaction that held the key; empty when none.</param>
    /// <param name="attempts">How many times the transaction was run (1 for a single commit).</param>
    /// <param name="innerException">The cause.</param>
    public KvTransactionConflictException(string reason, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> conflictingTransactionId, int attempts,
        Exception? innerException = null)
        : base(KvErrorCode.TransactionConflict, Describe(reason, key, attempts), innerException)
    {
        Reason = reason;
        Key = key;
        ConflictingTransactionId = conflictingTransactionId;
        Attempts = attempts;
    }

    /// <summary>Creates the exception without details.</summary>
    public KvTransactionConflictException() : this("conflict", default, default, 1) { }

    /// <summary>Creates the exception with a message as its reason.</summary>
    public KvTransactionConflictException(string message) : this(message, default, default, 1) { }

    /// <summary>Creates the exception with a message as its reason and a cause.</summary>
    public KvTransactionConflictException(string message, Exception innerException) : this(message, default, default, 1, innerException) { }

    /// <summary>Why the (last) attempt aborted, as the server said.</summary>
    public string Reason { get; }

    /// <summary>The key that caused the (last) abort; empty when the server named none.</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <summary>The id of the transaction that held <see cref="Key"/>; empty when none did.</summary>
    public ReadOnlyMemory<byte> ConflictingTransactionId { get; }

    /// <summary>How many attempts conflicted: 1 from <see cref="KvTransaction.CommitAsync"/>, up to the limit from RunTransactionAsync.</summary>
    public int Attempts { get; }

    /// <summary>The same conflict, counted as the last of <paramref name="attempts"/> attempts.</summary>
    internal KvTransactionConflictException AfterAttempts(int attempts) =>
        new(Reason, Key, ConflictingTransactionId, attempts, this);

    private static string Describe(string reason, ReadOnlyMemory<byte> key, int attempts)
    {
        string on = key.IsEmpty ? "" : $" on key {KeyText(key.Span)}";
        string after = attempts > 1 ? $"all {attempts} attempts conflicted; the last: " : "";
        return $"The transaction was aborted: {after}{reason}{on}. Nothing was written; run the whole transaction again"
            + (attempts > 1 ? " later, or raise KvTransactionOptions.MaxAttempts if contention on the key is expected." : ".");
    }

    /// <summary>The key as text when it is printable UTF-8, else as hex.</summary>
    internal static string KeyText(ReadOnlySpan<byte> key)
    {
        foreach (byte b in key)
            if (b < 0x20 || b == 0x7F) return "0x" + Convert.ToHexString(key);
        try
        {
            return "'" + new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(key) + "'";
        }
        catch (ArgumentException)
        {
            return "0x" + Convert.ToHexString(key);
        }
    }
}

/// <summary>
/// A transaction's commit reached (or may have reached) the cluster, but its outcome could not be learnt: it may
/// have committed, or not. It is all-or-nothing either way. Never retried automatically: read the keys it wrote to
/// find out, then decide. <see cref="KvException.WriteMayHaveApplied"/> is true.
/// </summary>
public sealed class KvTransactionOutcomeUnknownException : KvException
{
    /// <summary>Creates the exception.</summary>
    public KvTransactionOutcomeUnknownException(string message, Exception? innerException = null)
        : base(KvErrorCode.TransactionOutcomeUnknown, message, innerException) => WriteMayHaveApplied = true;

    /// <summary>Creates the exception with a default message.</summary>
    public KvTransactionOutcomeUnknownException() : this("The transaction's outcome is unknown; it may have committed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public KvTransactionOutcomeUnknownException(string message) : this(message, null) { }
}

/// <summary>What became of one put of a failed <see cref="KvClient.PutManyAsync(IEnumerable{ValueTuple{ReadOnlyMemory{byte}, ReadOnlyMemory{byte}}}, CancellationToken)"/>.</summary>
public enum KvWriteOutcome
{
    /// <summary>Not applied: it was never sent, or the server refused it (or stopped its batch before it).</summary>
    NotApplied,

    /// <summary>Applied (once).</summary>
    Applied,

    /// <summary>
    /// Sent, but its answer was lost (a broken connection, the per-call timeout, the overall deadline): it may have
    /// applied. Read the key to find out, or put it again.
    /// </summary>
    MayHaveApplied,
}

/// <summary>
/// An operation of <see cref="KvClient.GetManyAsync(IEnumerable{ReadOnlyMemory{byte}}, CancellationToken)"/> or
/// <see cref="KvClient.PutManyAsync(IEnumerable{ValueTuple{ReadOnlyMemory{byte}, ReadOnlyMemory{byte}}}, CancellationToken)"/>
/// failed: <see cref="Key"/> and <see cref="Index"/> say which, <see cref="KvException.Code"/> and the inner exception
/// (the error a single Get or Put would have thrown, e.g. a <see cref="KvInvalidArgumentException"/>) say why.
/// For PutMany, <see cref="WriteOutcomes"/> says what became of every entry: a batch is not atomic, and nothing
/// that applied is undone.
/// </summary>
public sealed class KvBatchException : KvException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="operation">GetMany or PutMany.</param>
    /// <param name="index">The failed operation's position in the input.</param>
    /// <param name="key">The failed operation's key.</param>
    /// <param name="count">How many operations the call had.</param>
    /// <param name="writeOutcomes">For PutMany, every entry's outcome, in input order; empty for GetMany.</param>
    /// <param name="innerException">The failed operation's error.</param>
    public KvBatchException(string operation, int index, ReadOnlyMemory<byte> key, int count, IReadOnlyList<KvWriteOutcome> writeOutcomes, KvException innerException)
        : base(innerException?.Code ?? KvErrorCode.Unknown, Describe(operation, index, key, count, writeOutcomes, innerException), innerException)
    {
        Index = index;
        Key = key;
        WriteOutcomes = writeOutcomes ?? [];
        WriteMayHaveApplied = WriteOutcomes.Contains(KvWriteOutcome.MayHaveApplied);
    }

    /// <summary>Creates the exception without details.</summary>
    public KvBatchException() : this("A batch operation failed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public KvBatchException(string message) : base(KvErrorCode.Unknown, message) => WriteOutcomes = [];

    /// <summary>Creates the exception with a message and a cause.</summary>
    public KvBatchException(string message, Exception innerException)
        : base((innerException as KvException)?.Code ?? KvErrorCode.Unknown, message, innerException) => WriteOutcomes = [];

    /// <summary>The position, in the caller's input, of the operation that failed (the first one, if several did).</summary>
    public int Index { get; }

    /// <summary>The key of the operation that failed.</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <summary>
    /// PutMany: for every entry, in input order, whether it was applied, was not, or may have been. Entries after the
    /// failed one in its range's batch, and those of batches not yet sent, were not; other ranges' batches in flight
    /// ran to their end. Empty for GetMany.
    /// </summary>
    public IReadOnlyList<KvWriteOutcome> WriteOutcomes { get; }

    private static string Describe(string operation, int index, ReadOnlyMemory<byte> key, int count, IReadOnlyList<KvWriteOutcome>? outcomes, KvException? inner)
    {
        bool puts = outcomes is { Count: > 0 };
        string what = puts ? "put" : "read";
        var text = new System.Text.StringBuilder(
            $"{operation}: the {what} of key {KvTransactionConflictException.KeyText(key.Span)} (index {index} of the {count} entries) failed: {inner?.Message}");
        if (puts)
        {
            int applied = outcomes!.Count(o => o == KvWriteOutcome.Applied), maybe = outcomes!.Count(o => o == KvWriteOutcome.MayHaveApplied);
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $" {applied} of {count} puts were applied, {maybe} may have been, the others were not (see WriteOutcomes); nothing is undone. Use a transaction for all-or-nothing writes.");
        }
        return text.ToString();
    }
}
