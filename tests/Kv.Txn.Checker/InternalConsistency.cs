namespace Kv.Txn.Checker;

/// <summary>
/// Checks each committed transaction against itself: once it has read or appended to a key, its next read of that
/// key is determined — the earlier read plus its own appends since, or (with no earlier read) anything ending with
/// its own appends. Inter-transaction inference is only sound if transactions see their own writes.
/// </summary>
internal static class InternalConsistency
{
    public static void Check(HistoryIndex index, AnomalySink sink)
    {
        var states = new Dictionary<string, KeyState>(StringComparer.Ordinal);
        for (int t = 0; t < index.TxnCount; t++)
        {
            if (index.Outcome(t) != TxnOutcome.Committed) continue;
            states.Clear();
            foreach (var op in index.Txns[t].Ops)
            {
                switch (op)
                {
                    case AppendOp append:
                        if (!states.TryGetValue(append.Key, out var state))
                        {
                            state = new KeyState();
                            states.Add(append.Key, state);
                        }
                        state.OwnAppends.Add(append.Element);
                        break;
                    case ReadOp { Observed: { } observed } read:
                        if (states.TryGetValue(read.Key, out var known))
                            CheckRead(index, t, read.Key, known, observed, sink);
                        else
                            states.Add(read.Key, known = new KeyState());
                        known.LastRead = observed;
                        known.OwnAppends.Clear();
                        break;
                }
            }
        }
    }

    private static void CheckRead(
        HistoryIndex index, int txn, string key, KeyState known, IReadOnlyList<long> observed, AnomalySink sink)
    {
        var own = known.OwnAppends;
        if (known.LastRead is { } lastRead)
        {
            var expected = lastRead.Concat(own).ToArray();
            if (observed.SequenceEqual(expected)) return;
            sink.Add(
                AnomalyKind.Internal,
                key,
                () => $"{index.Name(txn)} read {key} = {Format.List(lastRead.ToArray())}"
                    + (own.Count > 0 ? $", appended {Format.List(own.ToArray())}" : "")
                    + $", then read {key} = {Format.List(observed.ToArray())}; expected {Format.List(expected)}",
                index.Id(txn));
            return;
        }

        if (observed.Count >= own.Count && observed.Skip(observed.Count - own.Count).SequenceEqual(own)) return;
        sink.Add(
            AnomalyKind.Internal,
            key,
            () => $"{index.Name(txn)} appended {Format.List(own.ToArray())} to {key}, then read {key} = "
                + $"{Format.List(observed.ToArray())}, which does not end with its own appends",
            index.Id(txn));
    }

    private sealed class KeyState
    {
        public IReadOnlyList<long>? LastRead { get; set; }

        public List<long> OwnAppends { get; } = [];
    }
}
