namespace Kv.Simulation.Checking;

/// <summary>The kind of a recorded client operation.</summary>
public enum KvOperationKind
{
    /// <summary>A read of one key.</summary>
    Read,

    /// <summary>A write (put) of one key.</summary>
    Write,
}

/// <summary>
/// One client operation on one key, as recorded in a simulator history. Times are simulated ticks.
/// </summary>
/// <param name="ClientId">The client that issued the operation (only used in explanations).</param>
/// <param name="Key">The key operated on.</param>
/// <param name="Kind">Read or write.</param>
/// <param name="Value">
/// For a write, the value written; for a read, the value observed (<see langword="null"/> = key
/// absent, i.e. the initial value).
/// </param>
/// <param name="InvokeTime">When the client sent the request.</param>
/// <param name="ResponseTime">
/// When the client received the response, or <see langword="null"/> if the outcome is unknown (a
/// write that timed out: it may or may not have taken effect, at any time after
/// <paramref name="InvokeTime"/>). Reads must always have a response time.
/// </param>
public sealed record KvOperation(
    int ClientId,
    string Key,
    KvOperationKind Kind,
    string? Value,
    long InvokeTime,
    long? ResponseTime);
