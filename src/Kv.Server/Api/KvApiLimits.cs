namespace Kv.Server.Api;

/// <summary>
/// The client API's own limits (key and value sizes come from <see cref="Configuration.NodeOptions"/>). Every page,
/// batch and response is bounded, so that one request costs a node bounded memory and time.
/// </summary>
public sealed record KvApiLimits
{
    /// <summary>The page size used when a scan's <c>limit</c> is 0.</summary>
    public int ScanLimitDefault { get; init; } = 1_000;

    /// <summary>The largest <c>limit</c> a scan may ask for; a larger one is INVALID_ARGUMENT.</summary>
    public int ScanLimitMax { get; init; } = 10_000;

    /// <summary>
    /// A scan page stops adding entries once their keys and values pass this many bytes (one entry is always
    /// returned, so a page is at most this or one maximal entry); <c>resume_key</c> then says where to go on.
    /// </summary>
    public int ScanResponseBytesMax { get; init; } = 4 * 1024 * 1024;

    /// <summary>The most operations in one batch; more is INVALID_ARGUMENT.</summary>
    public int BatchOperationsMax { get; init; } = 1_000;

    /// <summary>
    /// The most key and value bytes a batch's gets may return together; past it the batch stops with
    /// RESOURCE_EXHAUSTED (the operations before it stay applied).
    /// </summary>
    public int BatchResponseBytesMax { get; init; } = 64 * 1024 * 1024;

    /// <summary>Room in a request message for everything but one maximal key and value (fields, a batch's framing).</summary>
    public int RequestOverheadBytes { get; init; } = 64 * 1024;

    /// <summary>Throws when a limit is not positive or the default page is above the maximum.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ScanLimitDefault, 1, nameof(ScanLimitDefault));
        ArgumentOutOfRangeException.ThrowIfLessThan(ScanLimitMax, ScanLimitDefault, nameof(ScanLimitMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(ScanResponseBytesMax, 1, nameof(ScanResponseBytesMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchOperationsMax, 1, nameof(BatchOperationsMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchResponseBytesMax, 1, nameof(BatchResponseBytesMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(RequestOverheadBytes, 1024, nameof(RequestOverheadBytes));
    }
}
