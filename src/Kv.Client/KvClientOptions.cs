using Microsoft.Extensions.Logging;

namespace Kv.Client;

/// <summary>Settings of a <see cref="KvClient"/>. Defaults suit a local or LAN cluster.</summary>
public sealed class KvClientOptions
{
    /// <summary>
    /// The timeout of one attempt (one RPC to one node). Default 5 s. Without a cancellable token from the caller it is
    /// kept with a token shared by the attempts starting within the same 1/64 of it, so it may run up to 1/64 longer.
    /// </summary>
    public TimeSpan PerCallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The time a whole operation may take, retries and backoff included. Default 30 s.</summary>
    public TimeSpan OverallDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times a failed attempt is retried (so at most this + 1 attempts). Default 10.</summary>
    public int RetryAttemptsMax { get; set; } = 10;

    /// <summary>
    /// The first backoff delay; it doubles per retry up to <see cref="RetryBackoffMax"/>, and each delay is jittered to
    /// between half and all of that. Default 50 ms. A NotLeader that names another node is retried at once instead,
    /// unless that node already answered NotLeader within the same call (stale hints during an election).
    /// </summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The largest backoff delay. Default 1 s.</summary>
    public TimeSpan RetryBackoffMax { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long opening a connection to a node may take before the attempt fails as a connection failure (counted by
    /// the node's circuit breaker); at most <see cref="PerCallTimeout"/>. Default 2 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How many connection-level failures in a row (no answer between them) open an endpoint's circuit breaker at
    /// once: a node that is down. Only failures without an answer from a server count (refused, reset, unreachable,
    /// connect timeout); any answer, an error status included, resets the count. Default 2; 0 leaves only the
    /// failure ratio (<see cref="CircuitBreakerFailureRatio"/>).
    /// </summary>
    /// <remarks>
    /// While an endpoint's breaker is open the client routes around it (to the range's other replicas, or the other
    /// seeds); after <see cref="CircuitBreakerBreakDuration"/> one attempt probes it (half-open), which closes the
    /// breaker on an answer and opens it again on failure. When every candidate is open, one is tried anyway: a
    /// breaker never makes a call fail without an attempt. A node the cluster names as a range's leader is tried once
    /// a second while its breaker is open (only the leader can serve, and it may be back); an answer closes its breaker.
    /// </remarks>
    public int CircuitBreakerConsecutiveFailures { get; set; } = 2;

    /// <summary>
    /// The share of connection-level failures among the attempts at one endpoint, within
    /// <see cref="CircuitBreakerSamplingDuration"/> and over at least <see cref="CircuitBreakerMinimumThroughput"/>
    /// attempts, that opens its breaker: a flaky node. Default 0.5.
    /// </summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>How many attempts at an endpoint, within the sampling duration, the failure ratio needs before it may open the breaker. At least 2; default 10.</summary>
    public int CircuitBreakerMinimumThroughput { get; set; } = 10;

    /// <summary>The window over which the breaker computes the failure ratio. At least 0.5 s; default 10 s.</summary>
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an open breaker skips its endpoint before a probe attempt. At least 0.5 s; default 5 s.</summary>
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most operations in one <c>Batch</c> RPC of <see cref="KvClient.GetManyAsync(IEnumerable{ReadOnlyMemory{byte}}, CancellationToken)"/>
    /// and <see cref="KvClient.PutManyAsync(IEnumerable{ValueTuple{ReadOnlyMemory{byte}, ReadOnlyMemory{byte}}}, CancellationToken)"/>;
    /// larger groups are split. 1 to 1,000 (the server's limit); default 1,000.
    /// </summary>
    public int BatchOperationsMax { get; set; } = 1_000;

    /// <summary>
    /// The most key and value bytes in one <c>Batch</c> RPC of puts (a single larger put is sent alone). At least
    /// 64 KiB; default 4 MiB, which every server accepts.
    /// </summary>
    public int BatchRequestBytesMax { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Added to <see cref="PerCallTimeout"/> for each operation of a <c>Batch</c> RPC: the server applies a batch's
    /// operations one after another (each put is its own consensus round), so a batch of 1,000 puts may take seconds.
    /// Default 10 ms (a 1,000-put batch may take <see cref="PerCallTimeout"/> + 10 s).
    /// </summary>
    public TimeSpan BatchPerOperationTimeout { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How many <c>Batch</c> RPCs one GetMany or PutMany call keeps in flight (one per range at most). Default 16.</summary>
    public int BatchConcurrencyMax { get; set; } = 16;

    /// <summary>
    /// Per node, how many calls of gets, puts and deletes may be in flight before further ones wait and leave
    /// together in one <c>Bundle</c> call when a call ends (see docs/client.md, "Bundling"). Below it every request is its
    /// own call, so a lightly loaded client adds no delay; under load, requests share a call's fixed cost. Default 8;
    /// 0 turns bundling off (every request is its own call).
    /// </summary>
    public int BundleCallsInFlight { get; set; } = 8;

    /// <summary>The most requests in one <c>Bundle</c> call; more wait for the next. 1 to 1,000 (the server's limit); default 256.</summary>
    public int BundleOperationsMax { get; set; } = 256;

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
    /// <summary>
    /// Paxos commits of transactions that write in two or more ranges are staged by the client itself: it sends each
    /// range's part straight to that range's leader, all at once, instead of sending the whole commit to one node
    /// that forwards the parts. One message delay each way fewer on the commit's critical path; the outcome rules
    /// (and the recovery when the client dies midway) are the same. Transactions that scanned, that read with locks,
    /// or that use two-phase commit always commit through one node. Default true.
    /// </summary>
    public bool StageCommitsAtLeaders { get; set; } = true;

    internal Func<Uri, HttpMessageHandler>? HttpHandlerFactory { get; set; }

    /// <summary>Test hook: the clock of the circuit breakers.</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;

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
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "Must be positive.");
        if (CircuitBreakerConsecutiveFailures < 0)
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerConsecutiveFailures), CircuitBreakerConsecutiveFailures, "Must be 0 (off) or more.");
        if (!(CircuitBreakerFailureRatio is > 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerFailureRatio), CircuitBreakerFailureRatio, "Must be more than 0 and at most 1.");
        if (CircuitBreakerMinimumThroughput < 2)
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerMinimumThroughput), CircuitBreakerMinimumThroughput, "Must be at least 2.");
        if (CircuitBreakerSamplingDuration < TimeSpan.FromMilliseconds(500) || CircuitBreakerSamplingDuration > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerSamplingDuration), CircuitBreakerSamplingDuration, "Must be 0.5 s to 1 day.");
        if (CircuitBreakerBreakDuration < TimeSpan.FromMilliseconds(500) || CircuitBreakerBreakDuration > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerBreakDuration), CircuitBreakerBreakDuration, "Must be 0.5 s to 1 day.");
        if (BatchOperationsMax is < 1 or > 1_000) throw new ArgumentOutOfRangeException(nameof(BatchOperationsMax), BatchOperationsMax, "Must be 1 to 1,000 (the server's limit).");
        if (BatchRequestBytesMax < 64 * 1024) throw new ArgumentOutOfRangeException(nameof(BatchRequestBytesMax), BatchRequestBytesMax, "Must be at least 64 KiB.");
        if (BatchPerOperationTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(BatchPerOperationTimeout), BatchPerOperationTimeout, "Must be 0 or more.");
        if (BatchConcurrencyMax is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(BatchConcurrencyMax), BatchConcurrencyMax, "Must be 1 to 1024.");
        if (BundleCallsInFlight is < 0 or > 1024) throw new ArgumentOutOfRangeException(nameof(BundleCallsInFlight), BundleCallsInFlight, "Must be 0 (off) to 1024.");
        if (BundleOperationsMax is < 1 or > 1_000) throw new ArgumentOutOfRangeException(nameof(BundleOperationsMax), BundleOperationsMax, "Must be 1 to 1,000 (the server's limit).");
        if (ReceiveMessageBytesMax < 1024 * 1024) throw new ArgumentOutOfRangeException(nameof(ReceiveMessageBytesMax), ReceiveMessageBytesMax, "Must be at least 1 MiB.");
    }
}
