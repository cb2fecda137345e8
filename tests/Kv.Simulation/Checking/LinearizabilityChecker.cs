using System.Text;

namespace Kv.Simulation.Checking;

/// <summary>The verdict of a linearizability check.</summary>
public enum LinearizabilityOutcome
{
    /// <summary>Every key's history is linearizable.</summary>
    Linearizable,

    /// <summary>At least one key's history is not linearizable (see <see cref="LinearizabilityResult.Key"/>).</summary>
    NotLinearizable,

    /// <summary>No violation was found, but the search for at least one key exceeded its state budget.</summary>
    Unknown,
}

/// <summary>The result of <see cref="LinearizabilityChecker.Check"/>.</summary>
/// <param name="Outcome">The verdict.</param>
/// <param name="Key">
/// For <see cref="LinearizabilityOutcome.NotLinearizable"/>, the key whose history is not linearizable; for
/// <see cref="LinearizabilityOutcome.Unknown"/>, the first key whose search was abandoned; otherwise null.
/// </param>
/// <param name="Explanation">Human-readable description of the verdict, suitable for printing with a failing seed.</param>
/// <param name="KeysChecked">
/// Number of keys whose check ran to completion (a verdict, or abandoned as unknown). The check stops at the
/// first non-linearizable key, so this can be less than the number of keys in the history.
/// </param>
/// <param name="StatesExplored">Total number of distinct search states visited, over all keys checked.</param>
public sealed record LinearizabilityResult(
    LinearizabilityOutcome Outcome,
    string? Key,
    string Explanation,
    int KeysChecked,
    long StatesExplored)
{
    /// <summary>True when the outcome is <see cref="LinearizabilityOutcome.Linearizable"/>.</summary>
    public bool IsLinearizable => Outcome == LinearizabilityOutcome.Linearizable;

    /// <inheritdoc />
    public override string ToString() => $"{Outcome}: {Explanation}";
}

/// <summary>
/// Checks a key-value history for linearizability against a per-key register model (initial value null).
/// </summary>
/// <remarks>
/// Linearizability is compositional, so each key is checked independently. Each key is checked with the
/// Wing &amp; Gong / Lowe (WGL) search as used by Porcupine and Knossos: the invocations and responses form a
/// time-ordered doubly linked list; the search repeatedly linearizes ("lifts") an operation whose invocation
/// precedes the first remaining response, backtracking ("unlifting") when it reaches a response whose operation
/// cannot be linearized, and memoizes (set of linearized operations, register value) pairs to prune revisited states.
/// <para>
/// At equal times invocations sort before responses, so an operation that responds at tick t and one invoked at tick t
/// are treated as concurrent. Writes whose outcome is unknown never respond (their response sits at +infinity) and need
/// not be linearized: the history is accepted once every operation with a known response has been linearized.
/// </para>
/// </remarks>
public static class LinearizabilityChecker
{
    /// <summary>Default state budget per key.</summary>
    public const int DefaultMaxStatesPerKey = 2_000_000;

    /// <summary>Checks <paramref name="history"/> for linearizability.</summary>
    /// <param name="history">The recorded operations, in any order.</param>
    /// <param name="maxStatesPerKey">
    /// Budget of distinct search states per key; a key whose search exceeds it is reported as
    /// <see cref="LinearizabilityOutcome.Unknown"/> (neither a pass nor a failure).
    /// </param>
    /// <exception cref="ArgumentException">
    /// An operation is null, has a null key, is a read without a response time, or responds before it is invoked.
    /// </exception>
    public static LinearizabilityResult Check(IReadOnlyList<KvOperation> history, int maxStatesPerKey = DefaultMaxStatesPerKey)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStatesPerKey);

        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var keyOrder = new List<string>();
        for (int i = 0; i < history.Count; i++)
        {
            KvOperation op = history[i] ?? throw new ArgumentException($"history[{i}] is null.", nameof(history));
            if (op.Key is null)
                throw new ArgumentException($"history[{i}] has a null key.", nameof(history));
            if (op.Kind is not (KvOperationKind.Read or KvOperationKind.Write))
                throw new ArgumentException($"history[{i}] has an invalid kind {op.Kind}.", nameof(history));
            if (op.Kind == KvOperationKind.Read && op.ResponseTime is null)
                throw new ArgumentException($"history[{i}] is a read without a response time: {op}.", nameof(history));
            if (op.ResponseTime < op.InvokeTime)
                throw new ArgumentException($"history[{i}] responds before it is invoked: {op}.", nameof(history));

            if (!byKey.TryGetValue(op.Key, out List<int>? indices))
            {
                indices = [];
                byKey.Add(op.Key, indices);
                keyOrder.Add(op.Key);
            }
            indices.Add(i);
        }

        long statesExplored = 0;
        int keysChecked = 0;
        string? firstUnknownKey = null;
        StringBuilder? unknownExplanations = null;
        foreach (string key in keyOrder)
        {
            var search = new KeySearch(history, key, byKey[key]);
            KeyVerdict verdict = search.Run(maxStatesPerKey);
            keysChecked++;
            statesExplored += search.StatesExplored;
            switch (verdict)
            {
                case KeyVerdict.NotLinearizable:
                    return new LinearizabilityResult(
                        LinearizabilityOutcome.NotLinearizable, key, search.Explain(verdict, maxStatesPerKey), keysChecked, statesExplored);
                case KeyVerdict.Unknown:
                    firstUnknownKey ??= key;
                    unknownExplanations ??= new StringBuilder();
                    unknownExplanations.AppendLine(search.Explain(verdict, maxStatesPerKey));
                    break;
            }
        }

        if (firstUnknownKey is not null)
        {
            return new LinearizabilityResult(
                LinearizabilityOutcome.Unknown, firstUnknownKey, unknownExplanations!.ToString().TrimEnd(), keysChecked, statesExplored);
        }

        return new LinearizabilityResult(
            LinearizabilityOutcome.Linearizable,
            null,
            $"every key is linearizable ({keysChecked} key(s), {history.Count} operation(s), {statesExplored} state(s) explored).",
            keysChecked,
            statesExplored);
    }

    private enum KeyVerdict
    {
        Linearizable,
        NotLinearizable,
        Unknown,
    }

    /// <summary>The WGL search over the history of one key.</summary>
    private sealed class KeySearch
    {
        private const int Head = 0;
        private const int None = -1;
        private const ulong Golden = 0x9E3779B97F4A7C15UL;

        private readonly IReadOnlyList<KvOperation> history;
        private readonly string key;
        private readonly int[] historyIndex; // op -> index in history
        private readonly int n;

        // Per op.
        private readonly bool[] isWrite;
        private readonly bool[] isKnown; // has a response
        private readonly int[] valueId; // interned value: 0 = null, written or observed
        private readonly ulong[] zobrist;
        private readonly string?[] values; // value id -> value
        private readonly int knownCount;

        // Per entry; entry 0 is the list head, entries 1..2n are calls and returns in time order.
        private readonly int[] entryOp;
        private readonly bool[] entryIsCall;
        private readonly int[] match; // call entry -> its return entry
        private readonly int[] next;
        private readonly int[] prev;

        // Diagnostics: the deepest point at which the search got stuck.
        private int bestDepth = -1;
        private int[] bestPrefix = [];
        private int[] bestCandidates = [];
        private int bestBlockingOp = -1;
        private int bestState;
        private List<int>? neverWrittenReads;

        public KeySearch(IReadOnlyList<KvOperation> history, string key, List<int> indices)
        {
            this.history = history;
            this.key = key;
            n = indices.Count;
            historyIndex = indices.ToArray();
            isWrite = new bool[n];
            isKnown = new bool[n];
            valueId = new int[n];
            zobrist = new ulong[n];

            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            var valueList = new List<string?> { null };
            var entries = new EntrySortKey[2 * n];
            for (int op = 0; op < n; op++)
            {
                KvOperation o = history[historyIndex[op]];
                isWrite[op] = o.Kind == KvOperationKind.Write;
                isKnown[op] = o.ResponseTime.HasValue;
                if (isKnown[op])
                    knownCount++;
                if (o.Value is not null && !ids.TryGetValue(o.Value, out valueId[op]))
                {
                    valueId[op] = valueList.Count;
                    ids.Add(o.Value, valueId[op]);
                    valueList.Add(o.Value);
                }
                zobrist[op] = Mix((ulong)(op + 1) * Golden);
                entries[2 * op] = new EntrySortKey(o.InvokeTime, 0, op);
                entries[(2 * op) + 1] = new EntrySortKey(o.ResponseTime ?? long.MaxValue, 1, op);
            }
            values = valueList.ToArray();
            Array.Sort(entries);

            int count = (2 * n) + 1;
            entryOp = new int[count];
            entryIsCall = new bool[count];
            match = new int[count];
            next = new int[count];
            prev = new int[count];
            var callEntryOf = new int[n];
            entryOp[Head] = -1;
            prev[Head] = None;
            for (int i = 0; i < entries.Length; i++)
            {
                int e = i + 1;
                int op = entries[i].Op;
                entryOp[e] = op;
                entryIsCall[e] = entries[i].Order == 0;
                if (entryIsCall[e])
                    callEntryOf[op] = e;
                else
                    match[callEntryOf[op]] = e;
                next[e - 1] = e;
                prev[e] = e - 1;
            }
            next[count - 1] = None;
        }

        public long StatesExplored { get; private set; }

        public KeyVerdict Run(int maxStates)
        {
            // Cheap pre-check: a read of a value that no write on this key wrote can never be linearized.
            var written = new bool[values.Length];
            written[0] = true;
            for (int op = 0; op < n; op++)
            {
                if (isWrite[op])
                    written[valueId[op]] = true;
            }
            for (int op = 0; op < n; op++)
            {
                if (!isWrite[op] && !written[valueId[op]])
                    (neverWrittenReads ??= []).Add(op);
            }
            if (neverWrittenReads is not null)
                return KeyVerdict.NotLinearizable;

            int words = Math.Max(1, (n + 63) >> 6);
            var linearized = new ulong[words];
            var table = new StateTable(words, n);
            var stackEntry = new int[n];
            var stackState = new int[n];
            int depth = 0;
            int state = 0;
            ulong linearizedHash = 0;
            int remainingKnown = knownCount;
            int entry = next[Head];

            try
            {
                while (remainingKnown > 0)
                {
                    // While known responses remain in the list, the walk from the head always meets one before the end.
                    if (entryIsCall[entry])
                    {
                        int op = entryOp[entry];
                        int newState = valueId[op];
                        if (isWrite[op] || newState == state)
                        {
                            ulong newHash = linearizedHash ^ zobrist[op];
                            int word = op >> 6;
                            ulong bit = 1UL << (op & 63);
                            linearized[word] |= bit;
                            if (table.Add(newHash ^ Mix(((ulong)(uint)newState + 1) * Golden), newState, linearized))
                            {
                                if (table.Count > maxStates)
                                    return KeyVerdict.Unknown;
                                stackEntry[depth] = entry;
                                stackState[depth] = state;
                                depth++;
                                state = newState;
                                linearizedHash = newHash;
                                Lift(entry);
                                if (isKnown[op])
                                    remainingKnown--;
                                entry = next[Head];
                                continue;
                            }
                            linearized[word] &= ~bit;
                        }
                        entry = next[entry];
                    }
                    else
                    {
                        // A response whose operation is not linearized yet: backtrack.
                        if (depth > bestDepth)
                            RecordStuck(stackEntry, depth, entry, state);
                        if (depth == 0)
                            return KeyVerdict.NotLinearizable;
                        depth--;
                        entry = stackEntry[depth];
                        state = stackState[depth];
                        int op = entryOp[entry];
                        linearized[op >> 6] &= ~(1UL << (op & 63));
                        linearizedHash ^= zobrist[op];
                        Unlift(entry);
                        if (isKnown[op])
                            remainingKnown++;
                        entry = next[entry];
                    }
                }
                return KeyVerdict.Linearizable;
            }
            finally
            {
                StatesExplored = table.Count;
            }
        }

        public string Explain(KeyVerdict verdict, int maxStates)
        {
            var sb = new StringBuilder();
            int pending = n - knownCount;
            string summary = $"{n} op(s) on this key, {pending} with unknown outcome, {StatesExplored} state(s) explored";
            if (verdict == KeyVerdict.Unknown)
            {
                sb.Append($"Key \"{key}\": gave up after exceeding maxStatesPerKey = {maxStates} ({summary}).");
                return sb.ToString();
            }
            if (verdict == KeyVerdict.Linearizable)
            {
                sb.Append($"Key \"{key}\": linearizable ({summary}).");
                return sb.ToString();
            }

            if (neverWrittenReads is not null)
            {
                sb.AppendLine($"Key \"{key}\" is not linearizable: read(s) observed a value that no write on this key wrote ({summary}).");
                foreach (int op in neverWrittenReads)
                    sb.AppendLine($"  {Describe(op)}");
                return sb.ToString().TrimEnd();
            }

            sb.AppendLine($"Key \"{key}\" is not linearizable ({summary}).");
            const int maxPrefixShown = 30;
            sb.AppendLine(
                $"Longest linearizable prefix found: {bestPrefix.Length} of {n} op(s); register value afterwards: {Quote(values[bestState])}.");
            int skip = Math.Max(0, bestPrefix.Length - maxPrefixShown);
            if (skip > 0)
                sb.AppendLine($"  ... {skip} earlier op(s) elided ...");
            for (int i = skip; i < bestPrefix.Length; i++)
                sb.AppendLine($"  {i + 1}. {Describe(bestPrefix[i])}");
            if (bestBlockingOp >= 0)
            {
                long? response = history[historyIndex[bestBlockingOp]].ResponseTime;
                sb.AppendLine(
                    $"Stuck: {Describe(bestBlockingOp)} must take effect before its response at {response}, "
                    + "but none of the operations pending at that point can be linearized next:");
                foreach (int op in bestCandidates)
                    sb.AppendLine($"  {Describe(op)}");
            }

            const int maxAllShown = 60;
            if (n <= maxAllShown)
            {
                sb.AppendLine("All operations on this key, by invocation time:");
                for (int e = next[Head]; e != None; e = next[e])
                {
                    if (entryIsCall[e])
                        sb.AppendLine($"  {Describe(entryOp[e])}");
                }
            }
            return sb.ToString().TrimEnd();
        }

        private void RecordStuck(int[] stackEntry, int depth, int returnEntry, int state)
        {
            bestDepth = depth;
            bestPrefix = new int[depth];
            for (int i = 0; i < depth; i++)
                bestPrefix[i] = entryOp[stackEntry[i]];
            bestBlockingOp = entryOp[returnEntry];
            bestState = state;
            var candidates = new List<int>();
            for (int e = next[Head]; e != returnEntry && e != None; e = next[e])
            {
                if (entryIsCall[e])
                    candidates.Add(entryOp[e]);
            }
            bestCandidates = candidates.ToArray();
        }

        private string Describe(int op)
        {
            int index = historyIndex[op];
            KvOperation o = history[index];
            string what = o.Kind == KvOperationKind.Write ? $"write {Quote(o.Value)}" : $"read -> {Quote(o.Value)}";
            string response = o.ResponseTime is { } r ? $"response {r}" : "no response (outcome unknown)";
            return $"#{index} client {o.ClientId} {what} [invoke {o.InvokeTime}, {response}]";
        }

        private static string Quote(string? value) => value is null ? "null (absent)" : $"\"{value}\"";

        private void Lift(int e)
        {
            int r = match[e];
            next[prev[e]] = next[e];
            if (next[e] != None)
                prev[next[e]] = prev[e];
            next[prev[r]] = next[r];
            if (next[r] != None)
                prev[next[r]] = prev[r];
        }

        private void Unlift(int e)
        {
            int r = match[e];
            next[prev[r]] = r;
            if (next[r] != None)
                prev[next[r]] = r;
            next[prev[e]] = e;
            if (next[e] != None)
                prev[next[e]] = e;
        }

        private static ulong Mix(ulong z)
        {
            z ^= z >> 30;
            z *= 0xBF58476D1CE4E5B9UL;
            z ^= z >> 27;
            z *= 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return z;
        }
    }

    /// <summary>Sort key of a call (Order 0) or return (Order 1) entry: by time, calls before returns, then by op.</summary>
    private readonly record struct EntrySortKey(long Time, int Order, int Op) : IComparable<EntrySortKey>
    {
        public int CompareTo(EntrySortKey other)
        {
            int c = Time.CompareTo(other.Time);
            if (c != 0)
                return c;
            c = Order.CompareTo(other.Order);
            return c != 0 ? c : Op.CompareTo(other.Op);
        }
    }

    /// <summary>
    /// Open-addressing hash set of (bitset of linearized ops, register value) search states. Bitsets are stored
    /// inline in one flat array, so adding a state allocates nothing except when the table grows.
    /// </summary>
    private sealed class StateTable
    {
        private readonly int words;
        private ulong[] hashes; // 0 = empty slot
        private int[] states;
        private ulong[] bits;
        private int mask;

        public StateTable(int words, int expectedStates)
        {
            this.words = words;
            int capacity = 64;
            while (capacity < expectedStates * 4)
                capacity <<= 1;
            hashes = new ulong[capacity];
            states = new int[capacity];
            bits = new ulong[capacity * words];
            mask = capacity - 1;
        }

        public int Count { get; private set; }

        /// <summary>Adds the state; returns false if it was already present.</summary>
        public bool Add(ulong hash, int state, ulong[] set)
        {
            if (hash == 0)
                hash = 1;
            if ((Count + 1) * 2 > hashes.Length)
                Grow();
            int slot = (int)(hash & (ulong)mask);
            while (true)
            {
                ulong h = hashes[slot];
                if (h == 0)
                {
                    hashes[slot] = hash;
                    states[slot] = state;
                    set.AsSpan().CopyTo(bits.AsSpan(slot * words, words));
                    Count++;
                    return true;
                }
                if (h == hash && states[slot] == state && bits.AsSpan(slot * words, words).SequenceEqual(set))
                    return false;
                slot = (slot + 1) & mask;
            }
        }

        private void Grow()
        {
            ulong[] oldHashes = hashes;
            int[] oldStates = states;
            ulong[] oldBits = bits;
            int capacity = oldHashes.Length * 2;
            hashes = new ulong[capacity];
            states = new int[capacity];
            bits = new ulong[capacity * words];
            mask = capacity - 1;
            for (int old = 0; old < oldHashes.Length; old++)
            {
                ulong h = oldHashes[old];
                if (h == 0)
                    continue;
                int slot = (int)(h & (ulong)mask);
                while (hashes[slot] != 0)
                    slot = (slot + 1) & mask;
                hashes[slot] = h;
                states[slot] = oldStates[old];
                oldBits.AsSpan(old * words, words).CopyTo(bits.AsSpan(slot * words, words));
            }
        }
    }
}
