namespace Kv.Txn.Checker;

/// <summary>
/// Finds the cyclic strongly connected components of the dependency graph and reports one concrete cycle for each,
/// classified by the weakest edges that close a cycle in it: ww only (G0), then ww+wr (G1c), then exactly one rw
/// (G-single), then any (G2); real-time edges are tried only after every cycle without them has been ruled out.
/// </summary>
internal sealed class CycleFinder
{
    // Start points tried per sub-component when looking for a short cycle; each try is one breadth-first search.
    private const int CycleStartsTriedMax = 8;

    private static readonly Level[] SerializableLevels =
    [
        new(AnomalyKind.G0, EdgeKinds.WriteWrite, SingleReadWrite: false),
        new(AnomalyKind.G1c, EdgeKinds.WriteWrite | EdgeKinds.WriteRead, SingleReadWrite: false),
        new(AnomalyKind.GSingle, EdgeKinds.WriteWrite | EdgeKinds.WriteRead, SingleReadWrite: true),
        new(AnomalyKind.G2, EdgeKinds.WriteWrite | EdgeKinds.WriteRead | EdgeKinds.ReadWrite, SingleReadWrite: false),
    ];

    private static readonly Level[] RealTimeLevels =
    [
        new(AnomalyKind.G0Realtime, EdgeKinds.WriteWrite | EdgeKinds.RealTime, SingleReadWrite: false),
        new(AnomalyKind.G1cRealtime, EdgeKinds.WriteWrite | EdgeKinds.WriteRead | EdgeKinds.RealTime, SingleReadWrite: false),
        new(AnomalyKind.GSingleRealtime, EdgeKinds.WriteWrite | EdgeKinds.WriteRead | EdgeKinds.RealTime, SingleReadWrite: true),
        new(AnomalyKind.G2Realtime, EdgeKinds.All, SingleReadWrite: false),
    ];

    private readonly DependencyGraph _graph;
    private readonly StronglyConnected _components;
    private readonly int _singleReadWriteStepsMax;
    // Membership of the component being classified and of a sub-component inside it, by stamp, so no per-search clearing.
    private readonly int[] _inComponent;
    private readonly int[] _inSub;
    private readonly int[] _subComponentOf;
    private readonly int[] _seen;
    private readonly int[] _parentEdge;
    private int _componentStamp;
    private int _subStamp;
    private int _searchStamp;

    private CycleFinder(DependencyGraph graph, int singleReadWriteStepsMax)
    {
        _graph = graph;
        _components = new StronglyConnected(graph);
        _singleReadWriteStepsMax = singleReadWriteStepsMax;
        _inComponent = new int[graph.NodeCount];
        _inSub = new int[graph.NodeCount];
        _subComponentOf = new int[graph.NodeCount];
        _seen = new int[graph.NodeCount];
        _parentEdge = new int[graph.NodeCount];
    }

    public static void Report(HistoryIndex index, DependencyGraph graph, CheckOptions options, AnomalySink sink)
    {
        var finder = new CycleFinder(graph, options.SingleAntiDependencySearchStepsMax);
        var nodes = Enumerable.Range(0, graph.NodeCount).Where(node => graph.Included[node]);
        foreach (var component in finder._components.CyclicComponents(nodes, node => graph.Included[node], EdgeKinds.All))
        {
            var (kind, cycle) = finder.Classify(component);
            if (sink.Count(kind)) sink.Keep(CycleExplanation.Describe(index, graph, kind, cycle, component.Length));
        }
    }

    private (AnomalyKind Kind, List<int> Cycle) Classify(int[] component)
    {
        int stamp = ++_componentStamp;
        foreach (int node in component) _inComponent[node] = stamp;
        bool InComponent(int node) => _inComponent[node] == stamp;

        var levels = _graph.HasRealTimeEdges ? SerializableLevels.Concat(RealTimeLevels) : SerializableLevels;
        foreach (var level in levels)
        {
            var cycle = level.SingleReadWrite
                ? FindSingleReadWriteCycle(component, InComponent, level.Kinds)
                : FindCycle(component, InComponent, level.Kinds);
            if (cycle is not null) return (level.Kind, cycle);
        }
        throw new InvalidOperationException("a strongly connected component with no cycle under all edge kinds");
    }

    private List<int>? FindCycle(int[] component, Func<int, bool> inComponent, EdgeKinds kinds)
    {
        var subs = _components.CyclicComponents(component, inComponent, kinds);
        if (subs.Count == 0) return null;
        var sub = subs[0];
        int stamp = ++_subStamp;
        foreach (int node in sub) _inSub[node] = stamp;
        bool InSub(int node) => _inSub[node] == stamp;

        List<int>? shortest = null;
        int unlimited = int.MaxValue;
        foreach (int start in sub.Take(CycleStartsTriedMax))
        {
            var cycle = ShortestPath(start, start, InSub, kinds, ref unlimited);
            if (cycle is not null && (shortest is null || cycle.Count < shortest.Count)) shortest = cycle;
        }
        return shortest;
    }

    /// <summary>A cycle of one rw edge u → v closed by a path v ⇝ u over <paramref name="baseKinds"/>.</summary>
    private List<int>? FindSingleReadWriteCycle(int[] component, Func<int, bool> inComponent, EdgeKinds baseKinds)
    {
        // When u and v share a component under the base kinds, the closing path is certain; try those first.
        int componentNumber = 0;
        _components.ForEachComponent(component, inComponent, baseKinds, members =>
        {
            componentNumber++;
            foreach (int node in members) _subComponentOf[node] = componentNumber;
        });

        int unlimited = int.MaxValue;
        foreach (int edge in ReadWriteEdges(component, inComponent))
        {
            ref readonly var rw = ref _graph[edge];
            int shared = _subComponentOf[rw.From];
            if (_subComponentOf[rw.To] != shared) continue;
            var path = ShortestPath(rw.To, rw.From, node => inComponent(node) && _subComponentOf[node] == shared, baseKinds, ref unlimited);
            if (path is not null) return [edge, .. path];
        }

        // Otherwise a path may still lead from v's component down to u's; the search is bounded because it can be
        // quadratic, and a component it gives up on is reported as G2, which it is in any case.
        int budget = _singleReadWriteStepsMax;
        foreach (int edge in ReadWriteEdges(component, inComponent))
        {
            ref readonly var rw = ref _graph[edge];
            var path = ShortestPath(rw.To, rw.From, inComponent, baseKinds, ref budget);
            if (path is not null) return [edge, .. path];
            if (budget <= 0) return null;
        }
        return null;
    }

    private IEnumerable<int> ReadWriteEdges(int[] component, Func<int, bool> inComponent)
    {
        foreach (int node in component)
        {
            for (int edge = _graph.FirstEdge(node); edge < _graph.EndEdge(node); edge++)
            {
                if (_graph[edge].Kind == DependencyKind.ReadWrite && inComponent(_graph[edge].To)) yield return edge;
            }
        }
    }

    /// <summary>
    /// The edges of a shortest path from <paramref name="from"/> to <paramref name="to"/> (a cycle when they are equal)
    /// through nodes satisfying <paramref name="member"/>, or null; each edge examined costs one step of <paramref name="budget"/>.
    /// </summary>
    private List<int>? ShortestPath(int from, int to, Func<int, bool> member, EdgeKinds kinds, ref int budget)
    {
        int stamp = ++_searchStamp;
        var queue = new Queue<int>();
        queue.Enqueue(from);
        _seen[from] = stamp;
        while (queue.Count > 0)
        {
            int node = queue.Dequeue();
            for (int edge = _graph.FirstEdge(node); edge < _graph.EndEdge(node); edge++)
            {
                if (--budget < 0) return null;
                ref readonly var next = ref _graph[edge];
                if (!next.IsIn(kinds) || !member(next.To)) continue;
                if (next.To == to) return PathEndingWith(from, edge);
                if (_seen[next.To] == stamp) continue;
                _seen[next.To] = stamp;
                _parentEdge[next.To] = edge;
                queue.Enqueue(next.To);
            }
        }
        return null;
    }

    private List<int> PathEndingWith(int from, int lastEdge)
    {
        var path = new List<int> { lastEdge };
        for (int node = _graph[lastEdge].From; node != from; node = _graph[_parentEdge[node]].From)
            path.Add(_parentEdge[node]);
        path.Reverse();
        return path;
    }

    private sealed record Level(AnomalyKind Kind, EdgeKinds Kinds, bool SingleReadWrite);
}
