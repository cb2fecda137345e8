namespace Kv.Txn.Checker;

/// <summary>
/// Tarjan's strongly connected components over a subgraph (some nodes, some edge kinds), iterative so a history
/// whose dependency chain runs through every transaction cannot overflow the stack. Scratch arrays are sized once and
/// reset only where a search touched them, so the many small searches inside components stay proportional to their size.
/// </summary>
internal sealed class StronglyConnected
{
    private const int Unvisited = -1;

    private readonly DependencyGraph _graph;
    private readonly int[] _order;
    private readonly int[] _low;
    private readonly int[] _cursor;
    private readonly bool[] _onStack;
    private readonly List<int> _touched = [];
    private readonly Stack<int> _calls = new();
    private readonly Stack<int> _component = new();

    public StronglyConnected(DependencyGraph graph)
    {
        _graph = graph;
        _order = new int[graph.NodeCount];
        Array.Fill(_order, Unvisited);
        _low = new int[graph.NodeCount];
        _cursor = new int[graph.NodeCount];
        _onStack = new bool[graph.NodeCount];
    }

    /// <summary>The components with more than one node (edges never loop to their source, so only those hold cycles).</summary>
    public List<int[]> CyclicComponents(IEnumerable<int> nodes, Func<int, bool> member, EdgeKinds kinds)
    {
        var cyclic = new List<int[]>();
        ForEachComponent(nodes, member, kinds, component =>
        {
            if (component.Length > 1) cyclic.Add(component);
        });
        return cyclic;
    }

    /// <summary>
    /// Calls <paramref name="onComponent"/> for every component among <paramref name="nodes"/>, following only edges of
    /// <paramref name="kinds"/> whose target satisfies <paramref name="member"/> (every start node must too).
    /// </summary>
    public void ForEachComponent(IEnumerable<int> nodes, Func<int, bool> member, EdgeKinds kinds, Action<int[]> onComponent)
    {
        int counter = 0;
        try
        {
            foreach (int root in nodes)
            {
                if (_order[root] != Unvisited) continue;
                Visit(root, ref counter);
                while (_calls.Count > 0)
                {
                    int node = _calls.Peek();
                    if (_cursor[node] < _graph.EndEdge(node))
                    {
                        ref readonly var edge = ref _graph[_cursor[node]++];
                        if (!edge.IsIn(kinds) || !member(edge.To)) continue;
                        if (_order[edge.To] == Unvisited)
                            Visit(edge.To, ref counter);
                        else if (_onStack[edge.To])
                            _low[node] = Math.Min(_low[node], _order[edge.To]);
                        continue;
                    }

                    _calls.Pop();
                    if (_calls.Count > 0)
                    {
                        int caller = _calls.Peek();
                        _low[caller] = Math.Min(_low[caller], _low[node]);
                    }
                    if (_low[node] == _order[node]) onComponent(PopComponent(node));
                }
            }
        }
        finally
        {
            foreach (int node in _touched)
            {
                _order[node] = Unvisited;
                _onStack[node] = false;
            }
            _touched.Clear();
            _calls.Clear();
            _component.Clear();
        }
    }

    private void Visit(int node, ref int counter)
    {
        _order[node] = _low[node] = counter++;
        _cursor[node] = _graph.FirstEdge(node);
        _onStack[node] = true;
        _component.Push(node);
        _calls.Push(node);
        _touched.Add(node);
    }

    private int[] PopComponent(int root)
    {
        var members = new List<int>();
        int node;
        do
        {
            node = _component.Pop();
            _onStack[node] = false;
            members.Add(node);
        }
        while (node != root);
        return [.. members];
    }
}
