namespace Kv.Client;

/// <summary>
/// A version of a key: the hybrid-logical-clock timestamp at which the write that produced it was applied.
/// Versions of one key increase with every write; pass one to <see cref="KvCondition.Version"/> for an optimistic update.
/// </summary>
/// <param name="WallNanos">Wall-clock nanoseconds since the Unix epoch.</param>
/// <param name="Logical">The logical counter that orders versions with the same wall time.</param>
public readonly record struct KvVersion(long WallNanos, int Logical) : IComparable<KvVersion>
{
    /// <summary>Orders by wall time, then logical counter.</summary>
    public int CompareTo(KvVersion other)
    {
        int c = WallNanos.CompareTo(other.WallNanos);
        return c != 0 ? c : Logical.CompareTo(other.Logical);
    }

    /// <summary>Whether <paramref name="left"/> is older than <paramref name="right"/>.</summary>
    public static bool operator <(KvVersion left, KvVersion right) => left.CompareTo(right) < 0;

    /// <summary>Whether <paramref name="left"/> is newer than <paramref name="right"/>.</summary>
    public static bool operator >(KvVersion left, KvVersion right) => left.CompareTo(right) > 0;

    /// <summary>Whether <paramref name="left"/> is not newer than <paramref name="right"/>.</summary>
    public static bool operator <=(KvVersion left, KvVersion right) => left.CompareTo(right) <= 0;

    /// <summary>Whether <paramref name="left"/> is not older than <paramref name="right"/>.</summary>
    public static bool operator >=(KvVersion left, KvVersion right) => left.CompareTo(right) >= 0;

    /// <summary>The version as <c>wall.logical</c>.</summary>
    public override string ToString() => $"{WallNanos}.{Logical}";
}

/// <summary>A key's current value and version, as read by Get or Scan.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value bytes.</param>
/// <param name="Version">The version (commit timestamp) of the value.</param>
public sealed record KvEntry(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value, KvVersion Version)
{
    /// <summary>The key decoded as UTF-8.</summary>
    public string KeyString => System.Text.Encoding.UTF8.GetString(Key.Span);

    /// <summary>The value decoded as UTF-8.</summary>
    public string ValueString => System.Text.Encoding.UTF8.GetString(Value.Span);
}

/// <summary>The condition of a compare-and-set: exactly one of absent, version, or value.</summary>
public sealed class KvCondition
{
    private KvCondition(KvConditionKind kind, KvVersion version, ReadOnlyMemory<byte> value)
    {
        Kind = kind;
        ExpectedVersion = version;
        ExpectedValue = value;
    }

    /// <summary>Which condition this is.</summary>
    public KvConditionKind Kind { get; }

    /// <summary>The version the key must have (<see cref="KvConditionKind.Version"/> only).</summary>
    public KvVersion ExpectedVersion { get; }

    /// <summary>The value the key must hold (<see cref="KvConditionKind.Value"/> only).</summary>
    public ReadOnlyMemory<byte> ExpectedValue { get; }

    /// <summary>Holds when the key does not exist.</summary>
    public static KvCondition Absent { get; } = new(KvConditionKind.Absent, default, default);

    /// <summary>Holds when the key's current version is exactly <paramref name="version"/>.</summary>
    public static KvCondition Version(KvVersion version) => new(KvConditionKind.Version, version, default);

    /// <summary>Holds when the key exists and its current value equals <paramref name="value"/>.</summary>
    public static KvCondition Value(ReadOnlyMemory<byte> value) => new(KvConditionKind.Value, default, value);

    /// <summary>Holds when the key exists and its current value equals the UTF-8 bytes of <paramref name="value"/>.</summary>
    public static KvCondition Value(string value) => Value(System.Text.Encoding.UTF8.GetBytes(value));
}

/// <summary>The kinds of <see cref="KvCondition"/>.</summary>
public enum KvConditionKind
{
    /// <summary>The key must not exist.</summary>
    Absent,

    /// <summary>The key's version must equal an expected version.</summary>
    Version,

    /// <summary>The key's value must equal an expected value.</summary>
    Value,
}

/// <summary>
/// The answer of a compare-and-set. A failed condition is an answer, not an error: <see cref="Succeeded"/> is
/// false and <see cref="Current"/> holds what the key is now (null when it does not exist).
/// </summary>
/// <param name="Succeeded">Whether the condition held and the write was applied.</param>
/// <param name="NewVersion">The version written (a delete's tombstone version), when it succeeded.</param>
/// <param name="Current">The key's current entry when the condition failed; null when absent or on success.</param>
public sealed record KvCasResult(bool Succeeded, KvVersion? NewVersion, KvEntry? Current);

/// <summary>How <see cref="KvClient.ScanAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, KvScanOptions?, CancellationToken)"/> reads.</summary>
public sealed record KvScanOptions
{
    /// <summary>Descending key order (from just below the end key down to the start key).</summary>
    public bool Reverse { get; init; }

    /// <summary>Entries fetched per round trip; 0 uses the server's default page (1,000). At most 10,000.</summary>
    public int PageSize { get; init; }

    /// <summary>Stop after this many entries in total; 0 means no limit.</summary>
    public long Limit { get; init; }
}

/// <summary>How a <see cref="KvClient.GetAsync(ReadOnlyMemory{byte}, KvReadConsistency, CancellationToken)"/> may be served.</summary>
public enum KvReadConsistency
{
    /// <summary>
    /// The latest committed value, as if the read ran at one instant between its call and its answer: served by the
    /// key's range leader (under its lease, or after a read-index round). The default.
    /// </summary>
    Linearizable = 0,

    /// <summary>
    /// etcd's serializable read: served by whichever replica of the key's range the client sends it to, from what that
    /// replica has applied, with no round to the leader. Cheaper, spread over the nodes, and answered even by a replica
    /// cut off from its leader; but it may be stale (miss recent writes, including the caller's own if another replica
    /// took them). Never an uncommitted value. The client sends these reads to the range's replicas in turn.
    /// </summary>
    Serializable = 1,
}
