namespace Kv.Txn.Checker;

/// <summary>A set of <see cref="DependencyKind"/>s, for walking only some edges.</summary>
[Flags]
internal enum EdgeKinds
{
    None = 0,
    WriteWrite = 1 << (int)DependencyKind.WriteWrite,
    WriteRead = 1 << (int)DependencyKind.WriteRead,
    ReadWrite = 1 << (int)DependencyKind.ReadWrite,
    RealTime = 1 << (int)DependencyKind.RealTime,
    All = WriteWrite | WriteRead | ReadWrite | RealTime,
}

/// <summary>
/// One inferred dependency between transactions (by position in the history), with the evidence needed to explain
/// it: <see cref="Element"/> is the target's append (ww, rw) or the element read (wr); <see cref="Prior"/> is the
/// source's append (ww) or the last element the source read (rw; null for an empty read).
/// </summary>
internal readonly record struct Edge(int From, int To, DependencyKind Kind, int Key, long Element, long? Prior)
{
    public bool IsIn(EdgeKinds kinds) => (kinds & (EdgeKinds)(1 << (int)Kind)) != 0;
}

/// <summary>
/// The transaction dependency graph in compressed adjacency form: each node's outgoing edges are contiguous and ordered
/// ww, wr, rw, rt, so a breadth-first search labels parallel edges with the least severe kind.
/// </summary>
internal sealed class DependencyGraph
{
    private readonly Edge[] _edges;
    private readonly int[] _offsets;

    public DependencyGraph(bool[] included, List<Edge> edges)
    {
        Included = included;
        _edges = [.. edges];
        Array.Sort(_edges, static (a, b) => a.From != b.From ? a.From.CompareTo(b.From) : a.Kind.CompareTo(b.Kind));
        _offsets = new int[included.Length + 1];
        foreach (var edge in _edges) _offsets[edge.From + 1]++;
        for (int node = 0; node < included.Length; node++) _offsets[node + 1] += _offsets[node];
        HasRealTimeEdges = _edges.Any(edge => edge.Kind == DependencyKind.RealTime);
    }

    /// <summary>Per transaction: is it a node (committed, or unknown with an append some committed read returned)?</summary>
    public IReadOnlyList<bool> Included { get; }

    public int NodeCount => Included.Count;

    public int EdgeCount => _edges.Length;

    public bool HasRealTimeEdges { get; }

    public int FirstEdge(int node) => _offsets[node];

    public int EndEdge(int node) => _offsets[node + 1];

    public ref readonly Edge this[int edge] => ref _edges[edge];
}
