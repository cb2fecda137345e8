namespace Kv.Txn.Checker;

/// <summary>
/// Checks what the trusted reads of one key returned: incompatible orders, duplicate and garbage elements, aborted
/// reads (G1a) and intermediate reads (G1b).
/// </summary>
/// <remarks>
/// A read that is a prefix of the longest read holds no element the longest does not, so element checks run over
/// the longest read and the incompatible reads only: linear in the key's list, not in the sum of all read lengths.
/// Each bad element is reported once per key, naming the first read that returned it and how many did.
/// </remarks>
internal sealed class ReadValidation
{
    private readonly HistoryIndex _index;
    private readonly int _key;
    private readonly string _keyName;
    private readonly VersionOrder _order;
    private readonly List<ObservedRead> _reads;
    private readonly AnomalySink _sink;
    private readonly HashSet<(AnomalyKind Kind, long Element)> _reported = [];

    private ReadValidation(HistoryIndex index, int key, VersionOrder order, AnomalySink sink)
    {
        _index = index;
        _key = key;
        _keyName = index.KeyNames[key];
        _order = order;
        _reads = index.ReadsByKey[key];
        _sink = sink;
    }

    public static void Check(HistoryIndex index, int key, VersionOrder order, AnomalySink sink)
    {
        var validation = new ReadValidation(index, key, order, sink);
        if (order.LongestRead >= 0) validation.CheckElements(order.LongestRead);
        for (int i = 0; i < validation._reads.Count; i++)
        {
            if (order.Compatible[i]) continue;
            validation.ReportIncompatible(i);
            validation.CheckElements(i);
        }
        for (int i = 0; i < validation._reads.Count; i++) validation.CheckIntermediate(i);
    }

    private void CheckElements(int read)
    {
        var elements = _reads[read].Elements;
        var firstPosition = new Dictionary<long, int>();
        for (int position = 0; position < elements.Length; position++)
        {
            long element = elements.Span[position];
            if (!firstPosition.TryAdd(element, position))
            {
                if (_reported.Add((AnomalyKind.DuplicateElement, element)))
                    ReportDuplicate(read, element, firstPosition[element], position);
                continue;
            }

            if (!_index.AppendsByKey[_key].TryGetValue(element, out var site))
            {
                if (_reported.Add((AnomalyKind.GarbageElement, element)))
                    ReportBadElement(AnomalyKind.GarbageElement, element, $"which no transaction appended to {_keyName}");
            }
            else if (_index.Outcome(site.Txn) == TxnOutcome.Aborted && _reported.Add((AnomalyKind.G1a, element)))
            {
                ReportBadElement(
                    AnomalyKind.G1a, element, $"appended by {_index.Name(site.Txn)}, which aborted", site.Txn);
            }
        }
    }

    private void ReportDuplicate(int read, long element, int first, int second)
    {
        var observed = _reads[read];
        _sink.Add(
            AnomalyKind.DuplicateElement,
            _keyName,
            () => $"{_index.Name(observed.Txn)} read {_keyName} = {Format.List(observed.Elements.Span, second)}, "
                + $"in which {element} appears twice (positions {first} and {second})",
            _index.Id(observed.Txn));
    }

    private void ReportBadElement(AnomalyKind kind, long element, string why, int? writer = null)
    {
        if (!_sink.Count(kind)) return;
        int position = _order.Longest.Span.IndexOf(element);
        int first = -1;
        int readers = 0;
        for (int i = 0; i < _reads.Count; i++)
        {
            bool contains = _order.Compatible[i]
                ? position >= 0 && _reads[i].Elements.Length > position
                : _reads[i].Elements.Span.Contains(element);
            if (!contains) continue;
            readers++;
            if (first < 0) first = i;
        }

        var reader = _reads[first];
        var span = reader.Elements.Span;
        string text = $"{_index.Name(reader.Txn)} read {_keyName} = {Format.List(span, span.IndexOf(element))}, "
            + $"containing {element}, {why}"
            + (readers > 1 ? $" ({readers} reads returned it)" : "");
        long[] txns = writer is { } w ? [_index.Id(reader.Txn), _index.Id(w)] : [_index.Id(reader.Txn)];
        _sink.Keep(new Anomaly(kind, text, txns, [_keyName], []));
    }

    private void ReportIncompatible(int read)
    {
        var longest = _reads[_order.LongestRead];
        var other = _reads[read];
        _sink.Add(
            AnomalyKind.IncompatibleOrder,
            _keyName,
            () =>
            {
                var a = other.Elements.Span;
                var b = longest.Elements.Span;
                int diverge = a.CommonPrefixLength(b);
                return $"{_index.Name(other.Txn)} read {_keyName} = {Format.List(a, diverge)} and "
                    + $"{_index.Name(longest.Txn)} read {_keyName} = {Format.List(b, diverge)}: they differ at position "
                    + $"{diverge} ({a[diverge]} vs {b[diverge]}), so no single order of appends explains both";
            },
            _index.Id(other.Txn),
            _index.Id(longest.Txn));
    }

    private void CheckIntermediate(int read)
    {
        var observed = _reads[read];
        var span = observed.Elements.Span;
        if (span.IsEmpty) return;
        long last = span[^1];
        if (!_index.AppendsByKey[_key].TryGetValue(last, out var site)) return;
        // A transaction reading its own unfinished appends is the internal check's business.
        if (site.IsFinalInTxn || site.Txn == observed.Txn) return;
        _sink.Add(
            AnomalyKind.G1b,
            _keyName,
            () => $"{_index.Name(observed.Txn)} read {_keyName} = {Format.List(observed.Elements.Span)}, ending in "
                + $"{last}, an intermediate state of {_index.Name(site.Txn)}, which appended {site.NextOwnElement} to "
                + $"{_keyName} after it",
            _index.Id(observed.Txn),
            _index.Id(site.Txn));
    }
}
