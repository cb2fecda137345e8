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
