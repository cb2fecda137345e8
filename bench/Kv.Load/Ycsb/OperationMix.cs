namespace Kv.Load.Ycsb;

/// <summary>The kinds of YCSB operation; the values are the variant indexes in results (<see cref="OperationMix.KindNames"/>).</summary>
internal enum YcsbOperationKind
{
    /// <summary>Read one record (linearizable get).</summary>
    Read = 0,

    /// <summary>Overwrite one record's value (put).</summary>
    Update = 1,

    /// <summary>Read a short run of records from a start key (length uniform in 1..<c>--scan-length-max</c>).</summary>
    Scan = 2,

    /// <summary>Write a new record past the loaded ones.</summary>
    Insert = 3,

    /// <summary>Read a record, then write it back with compare-and-set on the version read (retried on a lost race).</summary>
    ReadModifyWrite = 4,
}

/// <summary>
/// The proportions of one YCSB core workload (the definitions in YCSB's <c>workloads/workload[a-f]</c>): A 50 % read,
/// 50 % update; B 95/5; C read only; E 95 % scan, 5 % insert; F 50 % read, 50 % read-modify-write. (D, "read
/// latest", is not offered.)
/// </summary>
internal sealed record OperationMix(string Name, double Read, double Update, double Scan, double Insert, double ReadModifyWrite)
{
    /// <summary>The result names of <see cref="YcsbOperationKind"/>, by value.</summary>
    public static readonly IReadOnlyList<string> KindNames = ["read", "update", "scan", "insert", "rmw"];

    public static OperationMix A { get; } = new("a", 0.50, 0.50, 0, 0, 0);
    public static OperationMix B { get; } = new("b", 0.95, 0.05, 0, 0, 0);
    public static OperationMix C { get; } = new("c", 1.00, 0, 0, 0, 0);
    public static OperationMix E { get; } = new("e", 0, 0, 0.95, 0.05, 0);
    public static OperationMix F { get; } = new("f", 0.50, 0, 0, 0, 0.50);

    /// <summary>The workload named <paramref name="name"/> (a, b, c, e or f), or null.</summary>
    public static OperationMix? Named(string name) => name.ToLowerInvariant() switch
    {
        "a" => A,
        "b" => B,
        "c" => C,
        "e" => E,
        "f" => F,
        _ => null,
    };

    /// <summary>The kind for a uniform draw <paramref name="u"/> in [0, 1): the proportions laid end to end.</summary>
    public YcsbOperationKind Pick(double u)
    {
        double edge = Read;
        if (u < edge) return YcsbOperationKind.Read;
        if (u < (edge += Update)) return YcsbOperationKind.Update;
        if (u < (edge += Scan)) return YcsbOperationKind.Scan;
        if (u < edge + Insert) return YcsbOperationKind.Insert;
        // Whatever is left (ReadModifyWrite, and rounding at the top edge) goes to the last kind with a share.
        return ReadModifyWrite > 0 ? YcsbOperationKind.ReadModifyWrite
            : Insert > 0 ? YcsbOperationKind.Insert
            : Scan > 0 ? YcsbOperationKind.Scan
            : Update > 0 ? YcsbOperationKind.Update
            : YcsbOperationKind.Read;
    }
}
