using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kv.Paxos.Tests.ModelCheck;

/// <summary>The outcome of an exhaustive exploration.</summary>
public sealed class ExplorationResult<TState, TTransition>
{
    /// <summary>Distinct states reached (after dedupe), including the initial one.</summary>
    public required long StatesExplored { get; init; }

    /// <summary>Transitions taken, including those leading to already-visited states.</summary>
    public required long TransitionsExplored { get; init; }

    /// <summary>The number of BFS levels visited: the longest shortest path from the initial state.</summary>
    public required int MaxDepth { get; init; }

    /// <summary>True if every reachable state was visited (no violation stopped the search, no state limit hit).</summary>
    public required bool Finished { get; init; }

    /// <summary>Why the invariant failed, or null if it held in every state visited.</summary>
    public string? Violation { get; init; }

    /// <summary>The violating state, if any.</summary>
    public TState? ViolatingState { get; init; }

    /// <summary>The transitions from the initial state to the violating state: a shortest such path.</summary>
    public IReadOnlyList<TTransition> Trace { get; init; } = [];

    /// <summary><see cref="Trace"/> rendered one numbered line per step, each with the state it leads to.</summary>
    public IReadOnlyList<string> TraceLines { get; init; } = [];

    /// <summary>Number of visited states satisfying the witness predicate, if one was given.</summary>
    public long WitnessStates { get; init; }

    /// <summary>Wall-clock time of the exploration.</summary>
    public TimeSpan Elapsed { get; init; }

    public bool ViolationFound => Violation is not null;
}

/// <summary>
/// Explicit-state explorer: a level-by-level breadth-first search that visits every state reachable from an
/// initial state exactly once (dedupe by a canonical key), checks an invariant in each, and on a violation returns
/// a shortest counterexample. Each level is expanded in parallel, so when several shortest counterexamples exist,
/// which one is reported may vary between runs. For visited states only the key and the parent's key are kept;
/// the trace is recovered by replaying the successor function along the parent chain.
/// </summary>
public static class ModelExplorer
{
    private const int ChunkSize = 256;

    /// <param name="initial">The initial state.</param>
    /// <param name="successors">Every (transition, next state) enabled in a state. Must be deterministic and thread-safe.</param>
    /// <param name="key">Canonical key: states with equal keys are treated as the same state.</param>
    /// <param name="invariant">Null if the invariant holds in the state, else a description of the violation.</param>
    /// <param name="describe">Optional rendering of a state, appended to each trace line.</param>
    /// <param name="witness">Optional predicate; the result counts the visited states satisfying it.</param>
    /// <param name="maxStates">Stop, unfinished, after the first BFS level at which more states than this have been found.</param>
    public static ExplorationResult<TState, TTransition> Explore<TState, TTransition, TKey>(
        TState initial,
        Func<TState, IEnumerable<(TTransition Transition, TState Next)>> successors,
        Func<TState, TKey> key,
        Func<TState, string?> invariant,
        Func<TState, string>? describe = null,
        Func<TState, bool>? witness = null,
        long maxStates = 50_000_000)
        where TKey : notnull
    {
        var clock = Stopwatch.StartNew();
        TKey rootKey = key(initial);
        // Visited states, each mapped to the key of the state it was first reached from (the root to itself).
        var parents = new ConcurrentDictionary<TKey, TKey>();
        parents[rootKey] = rootKey;
        long statesFound = 1;
        long transitions = 0;
        long witnesses = 0;
        int depth = 0;
        List<TState> level = [initial];

        while (level.Count > 0)
        {
            var next = new List<TState>();
            var gate = new object();
            (int Index, TState State, string Message)? violation = null;
            int chunks = (level.Count + ChunkSize - 1) / ChunkSize;

            Parallel.For(0, chunks, () => (Next: new List<TState>(), Transitions: 0L, Witnesses: 0L), (chunk, loop, local) =>
            {
                int end = Math.Min(level.Count, (chunk + 1) * ChunkSize);
                for (int i = chunk * ChunkSize; i < end; i++)
                {
                    TState state = level[i];
                    string? broken = invariant(state);
                    if (broken is not null)
                    {
                        lock (gate)
                        {
                            if (violation is null || i < violation.Value.Index)
                            {
                                violation = (i, state, broken);
                            }
                        }
                        continue;
                    }
                    if (witness is not null && witness(state))
                    {
                        local.Witnesses++;
                    }
                    TKey stateKey = key(state);
                    foreach ((TTransition _, TState successor) in successors(state))
                    {
                        local.Transitions++;
                        if (parents.TryAdd(key(successor), stateKey))
                        {
                            local.Next.Add(successor);
                        }
                    }
                }
                return local;
            }, local =>
            {
                lock (gate)
                {
                    next.AddRange(local.Next);
                    transitions += local.Transitions;
                    witnesses += local.Witnesses;
                }
            });

            if (violation is { } found)
            {
                var (trace, lines) = Reconstruct(initial, successors, key, describe, parents, key(found.State));
                return new ExplorationResult<TState, TTransition>
                {
                    StatesExplored = parents.Count,
                    TransitionsExplored = transitions,
                    MaxDepth = depth,
                    Finished = false,
                    Violation = found.Message,
                    ViolatingState = found.State,
                    Trace = trace,
                    TraceLines = lines,
                    WitnessStates = witnesses,
                    Elapsed = clock.Elapsed,
                };
            }

            statesFound += next.Count;
            if (next.Count > 0)
            {
                depth++;
            }
            if (statesFound > maxStates)
            {
                return new ExplorationResult<TState, TTransition>
                {
                    StatesExplored = statesFound,
                    TransitionsExplored = transitions,
                    MaxDepth = depth,
                    Finished = false,
                    WitnessStates = witnesses,
                    Elapsed = clock.Elapsed,
                };
            }
            level = next;
        }

        return new ExplorationResult<TState, TTransition>
        {
            StatesExplored = statesFound,
            TransitionsExplored = transitions,
            MaxDepth = depth,
            Finished = true,
            WitnessStates = witnesses,
            Elapsed = clock.Elapsed,
        };
    }

    private static (List<TTransition>, List<string>) Reconstruct<TState, TTransition, TKey>(
        TState initial,
        Func<TState, IEnumerable<(TTransition Transition, TState Next)>> successors,
        Func<TState, TKey> key,
        Func<TState, string>? describe,
        ConcurrentDictionary<TKey, TKey> parents,
        TKey target)
        where TKey : notnull
    {
        var comparer = EqualityComparer<TKey>.Default;
        var path = new List<TKey>();
        TKey rootKey = key(initial);
        for (TKey k = target; !comparer.Equals(k, rootKey); k = parents[k])
        {
            path.Add(k);
        }
        path.Reverse();

        var trace = new List<TTransition>();
        var lines = new List<string>();
        if (describe is not null)
        {
            lines.Add($"0. initial state{Environment.NewLine}      => {describe(initial)}");
        }
        TState current = initial;
        foreach (TKey k in path)
        {
            (TTransition transition, TState next) = successors(current).First(x => comparer.Equals(key(x.Next), k));
            trace.Add(transition);
            lines.Add(describe is null
                ? $"{trace.Count}. {transition}"
                : $"{trace.Count}. {transition}{Environment.NewLine}      => {describe(next)}");
            current = next;
        }
        return (trace, lines);
    }
}
