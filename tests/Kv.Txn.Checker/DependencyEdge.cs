namespace Kv.Txn.Checker;

/// <summary>Why one transaction must precede another in any serial order.</summary>
public enum DependencyKind
{
    /// <summary>ww: the source appended the element just before the one the target appended.</summary>
    WriteWrite,

    /// <summary>wr: the target read a list ending with the source's append.</summary>
    WriteRead,

    /// <summary>rw (anti-dependency): the source read a version the target's append followed.</summary>
    ReadWrite,

    /// <summary>The source committed before the target began (only with <see cref="CheckOptions.RealTime"/>).</summary>
    RealTime,
}

/// <summary>One edge of a reported dependency cycle.</summary>
/// <param name="From">Id of the transaction that must come first.</param>
/// <param name="To">Id of the transaction that must come after it.</param>
/// <param name="Kind">Why.</param>
/// <param name="Key">The key the edge was inferred from; null for a real-time edge.</param>
/// <param name="Explanation">The evidence, for example "T3 read x = [1 2] but T5 appended the next element 3".</param>
public sealed record DependencyEdge(long From, long To, DependencyKind Kind, string? Key, string Explanation)
{
    /// <summary>The conventional short name: ww, wr, rw or rt.</summary>
    public string ShortName => Kind switch
    {
        DependencyKind.WriteWrite => "ww",
        DependencyKind.WriteRead => "wr",
        DependencyKind.ReadWrite => "rw",
        _ => "rt",
    };

    /// <inheritdoc />
    public override string ToString() => Explanation;
}
