namespace Kv.Txn.Checker;

/// <summary>One micro-operation of a list-append transaction; a transaction lists them in program order.</summary>
/// <param name="Key">The key operated on.</param>
public abstract record MicroOp(string Key)
{
    /// <summary>An append of <paramref name="element"/> to the list stored at <paramref name="key"/>.</summary>
    public static AppendOp Append(string key, long element) => new(key, element);

    /// <summary>
    /// A read of <paramref name="key"/> that returned <paramref name="observed"/> (empty when the key held no list), or
    /// <see langword="null"/> when the read did not complete.
    /// </summary>
    public static ReadOp Read(string key, IReadOnlyList<long>? observed) => new(key, observed);
}

/// <summary>Appends <paramref name="Element"/> to the list at <paramref name="Key"/>.</summary>
/// <param name="Key">The key appended to.</param>
/// <param name="Element">The element; unique among all appends to this key in the history.</param>
public sealed record AppendOp(string Key, long Element) : MicroOp(Key)
{
    /// <inheritdoc />
    public override string ToString() => $"append {Key} {Element}";
}

/// <summary>Reads the list at <paramref name="Key"/>.</summary>
/// <param name="Key">The key read.</param>
/// <param name="Observed">The list returned, oldest element first; <see langword="null"/> = the read did not complete.</param>
public sealed record ReadOp(string Key, IReadOnlyList<long>? Observed) : MicroOp(Key)
{
    /// <inheritdoc />
    public override string ToString() =>
        Observed is null ? $"read {Key} ?" : $"read {Key} {Format.List(Observed.ToArray())}";
}
