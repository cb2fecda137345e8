using Microsoft.Extensions.Logging;

namespace Kv.Client;

/// <summary>Settings of a <see cref="KvClient"/>. Defaults suit a local or LAN cluster.</summary>
public sealed class KvClientOptions
{
    /// <summary>The timeout of one attempt (one RPC to one node). Default 5 s.</summary>
    public TimeSpan PerCallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The time a whole operation may take, retries and backoff included. Default 30 s.</summary>
    public TimeSpan OverallDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times a failed attempt is retried (so at most this + 1 attempts). Default 10.</summary>
    public int RetryAttemptsMax { get; set; } = 10;

    /// <summary>The first backoff delay; it doubles per retry, with jitter, up to <see cref="RetryBackoffMax"/>. Default 50 ms.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The largest backoff delay. Default 1 s.</summary>
    public TimeSpan RetryBackoffMax { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an endpoint that refused a connection is skipped. Default 2 s.</summary>
    public TimeSpan DeadEndpointCooldown { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The client id carried in write ids, at most 63 bits and not 0; by default a random one. Two clients must
    /// never share an id. Write lane <c>i</c> (see <see cref="WriteLanes"/>) uses id <c>ClientId + i</c> (wrapping within 63 bits, skipping 0).
    /// </summary>
    public long ClientId { get; set; } = NewClientId();

    /// <summary>
    /// How many writes may be in flight at once. The server keeps one answer per client id, so a client id may
    /// carry one write at a time: each lane is a client id with its own sequence. Default 16.
    /// </summary>
    public int WriteLanes { get; set; } = 16;

    /// <summary>The largest response accepted (a scan page or a maximal value). Default 16 MiB.</summary>
    public int ReceiveMessageBytesMax { get; set; } = 16 * 1024 * 1024;

    /// <summary>The logger for retries and routing changes; none by default.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Test hook: the HTTP handler of an endpoint's channel (null: the default socket handler).</summary>
    internal Func<Uri, HttpMessageHandler>? HttpHandlerFactory { get; set; }

    /// <summary>A random non-zero 63-bit client id.</summary>
    public static long NewClientId()
    {
        while (true)
        {
            long id = System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue) * (1L << 32)
                | (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue) << 1
                | (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(2);
            id &= long.MaxValue;
            if (id != 0) return id;
        }
    }

    internal void Validate()
    {
        if (PerCallTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PerCallTimeout), PerCallTimeout, "Must be positive.");
        if (OverallDeadline <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(OverallDeadline), OverallDeadline, "Must be positive.");
        if (RetryAttemptsMax < 0) throw new ArgumentOutOfRangeException(nameof(RetryAttemptsMax), RetryAttemptsMax, "Must be 0 or more.");
        if (RetryBackoff < TimeSpan.Zero || RetryBackoffMax < RetryBackoff)
            throw new ArgumentOutOfRangeException(nameof(RetryBackoff), RetryBackoff, "Must be 0 or more and at most RetryBackoffMax.");
        if (ClientId <= 0) throw new ArgumentOutOfRangeException(nameof(ClientId), ClientId, "Must be a positive 63-bit number (0 disables deduplication and is not allowed).");
        if (WriteLanes is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(WriteLanes), WriteLanes, "Must be 1 to 1024.");
        if (ReceiveMessageBytesMax < 1024 * 1024) throw new ArgumentOutOfRangeException(nameof(ReceiveMessageBytesMax), ReceiveMessageBytesMax, "Must be at least 1 MiB.");
    }
}
