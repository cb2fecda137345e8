namespace Kv.Storage.Encoding;

/// <summary>
/// A hybrid-logical-clock timestamp: wall time in nanoseconds since the Unix epoch, and a logical counter that
/// orders events within one wall-clock reading. Totally ordered by wall time, then logical.
/// </summary>
public readonly record struct Timestamp(long WallNanos, int Logical) : IComparable<Timestamp>
{
    /// <summary>Below every real timestamp.</summary>
    public static readonly Timestamp Zero = new(0, 0);

    /// <summary>Above every real timestamp: reads "at the latest".</summary>
    public static readonly Timestamp Max = new(long.MaxValue, int.MaxValue);

    /// <inheritdoc />
    public int CompareTo(Timestamp other)
    {
        int c = WallNanos.CompareTo(other.WallNanos);
        return c != 0 ? c : Logical.CompareTo(other.Logical);
    }

    /// <summary>Orders timestamps.</summary>
    public static bool operator <(Timestamp a, Timestamp b) => a.CompareTo(b) < 0;

    /// <summary>Orders timestamps.</summary>
    public static bool operator >(Timestamp a, Timestamp b) => a.CompareTo(b) > 0;

    /// <summary>Orders timestamps.</summary>
    public static bool operator <=(Timestamp a, Timestamp b) => a.CompareTo(b) <= 0;

    /// <summary>Orders timestamps.</summary>
    public static bool operator >=(Timestamp a, Timestamp b) => a.CompareTo(b) >= 0;

    /// <inheritdoc />
    public override string ToString() => $"{WallNanos}.{Logical}";
}
