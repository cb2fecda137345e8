using Google.Protobuf;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

/// <summary>
/// What a transaction has done so far, kept in the client until its commit: the buffered writes (the last write of
/// a key wins), the version it saw of every key it read (the first answer for a key is kept: reads at one timestamp
/// agree), the spans it scanned, and the answers of its point reads (so that reading a key twice costs one round
/// trip). Pure and I/O-free; not thread-safe (the owning <see cref="KvTransaction"/> serializes access).
/// </summary>
internal sealed class TxnBuffer
{
    /// <summary>A write: <see cref="Value"/> null is a delete.</summary>
    public readonly record struct Write(ByteString Key, ByteString? Value);

    private readonly List<Write> _writes = [];
    private readonly Dictionary<ByteString, int> _writeAt = [];
    private readonly List<(ByteString Key, Wire.Timestamp? Version)> _reads = [];
    private readonly HashSet<ByteString> _readKeys = [];
    private readonly Dictionary<ByteString, (ByteString? Value, Wire.Timestamp? Version)> _pointReads = [];
    private readonly List<(ByteString Start, ByteString End)> _spans = [];

    /// <summary>How many distinct keys were written.</summary>
    public int WriteCount => _writes.Count;

    /// <summary>How many distinct keys were read.</summary>
    public int ReadCount => _reads.Count;

    /// <summary>How many spans were scanned.</summary>
    public int SpanCount => _spans.Count;

    /// <summary>Whether there is nothing to commit: no write, no read, no scanned span.</summary>
    public bool IsEmpty => _writes.Count == 0 && _reads.Count == 0 && _spans.Count == 0;

    /// <summary>Buffers a put of <paramref name="value"/>, replacing an earlier write of the key.</summary>
    public void Put(ByteString key, ByteString value) => Set(new Write(key, value));

    /// <summary>Buffers a delete, replacing an earlier write of the key.</summary>
    public void Delete(ByteString key) => Set(new Write(key, null));

    /// <summary>The buffered write of <paramref name="key"/>, if any (its value null for a delete).</summary>
    public bool TryGetWrite(ByteString key, out Write write)
    {
        if (_writeAt.TryGetValue(key, out int at))
        {
            write = _writes[at];
            return true;
        }
        write = default;
        return false;
    }

    /// <summary>The answer of an earlier point read of <paramref name="key"/> (null value: not found) and the version it saw.</summary>
    public bool TryGetPointRead(ByteString key, out ByteString? value, out Wire.Timestamp? version)
    {
        bool found = _pointReads.TryGetValue(key, out var read);
        (value, version) = read;
        return found;
    }

    /// <summary>Records a point read: its version as a dependency, its answer for later reads of the key.</summary>
    public void RecordPointRead(ByteString key, Wire.Timestamp? version, ByteString? value)
    {
        RecordRead(key, version);
        _pointReads.TryAdd(key, (value, version));
    }

    /// <summary>Records that the transaction saw <paramref name="version"/> of <paramref name="key"/> (null: no version).</summary>
    public void RecordRead(ByteString key, Wire.Timestamp? version)
    {
        if (_readKeys.Add(key)) _reads.Add((key, version));
    }

    /// <summary>Records a scanned span [<paramref name="start"/>, <paramref name="end"/>) (empty end: to the end of the key space).</summary>
    public void RecordSpan(ByteString start, ByteString end)
    {
        foreach (var (s, e) in _spans)
            if (s.Equals(start) && e.Equals(end)) return;
        _spans.Add((start, end));
    }

    /// <summary>
    /// The buffered writes with keys in [<paramref name="start"/>, <paramref name="end"/>) (empty end: unbounded),
    /// in scan order: ascending, or descending when <paramref name="reverse"/>. A snapshot: later writes are not in it.
    /// </summary>
    public List<Write> WritesIn(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, bool reverse)
    {
        var inSpan = new List<Write>();
        foreach (var w in _writes)
        {
            var key = w.Key.Span;
            if (key.SequenceCompareTo(start) >= 0 && (end.IsEmpty || key.SequenceCompareTo(end) < 0)) inSpan.Add(w);
        }
        inSpan.Sort((a, b) => reverse ? b.Key.Span.SequenceCompareTo(a.Key.Span) : a.Key.Span.SequenceCompareTo(b.Key.Span));
        return inSpan;
    }

    /// <summary>Fills the writes, reads and spans of <paramref name="request"/>.</summary>
    public void CopyTo(Wire.CommitTransactionRequest request)
    {
        foreach (var w in _writes)
            request.Writes.Add(w.Value is { } v ? new Wire.TxnWrite { Key = w.Key, Value = v } : new Wire.TxnWrite { Key = w.Key, Delete = true });
        foreach (var (key, version) in _reads)
        {
            var read = new Wire.TxnReadDependency { Key = key };
            if (version is not null) read.Version = version;
            request.Reads.Add(read);
        }
        foreach (var (start, end) in _spans) request.SpanReads.Add(new Wire.TxnSpanRead { StartKey = start, EndKey = end });
    }

    private void Set(Write write)
    {
        if (_writeAt.TryGetValue(write.Key, out int at)) _writes[at] = write;
        else
        {
            _writeAt[write.Key] = _writes.Count;
            _writes.Add(write);
        }
    }
}

/// <summary>
/// Merges a transaction's buffered writes into the pages of a scan, in scan order: a buffered put in the span
/// appears (replacing the stored value of its key), a buffered delete hides its key. Feed it the server's pages in
/// order with <see cref="Page"/>, then <see cref="Rest"/> once the scan is complete. Pure.
/// </summary>
internal sealed class TxnScanMerger(IReadOnlyList<TxnBuffer.Write> buffered, bool reverse)
{
    private int _next;

    /// <summary>The merged entries up to and including the last of <paramref name="page"/>.</summary>
    public IEnumerable<KvEntry> Page(IEnumerable<KvEntry> page)
    {
        foreach (var entry in page)
        {
            bool replaced = false;
            while (_next < buffered.Count)
            {
                var w = buffered[_next];
                int c = Order(w.Key.Span, entry.Key.Span);
                if (c > 0) break;
                _next++;
                if (c == 0)
                {
                    replaced = true;
                    if (w.Value is { } value) yield return Buffered(w.Key, value);
                    break;
                }
                if (w.Value is { } v) yield return Buffered(w.Key, v);
            }
            if (!replaced) yield return entry;
        }
    }

    /// <summary>The buffered puts after the last page's entries (the scan is complete).</summary>
    public IEnumerable<KvEntry> Rest()
    {
        while (_next < buffered.Count)
        {
            var w = buffered[_next++];
            if (w.Value is { } v) yield return Buffered(w.Key, v);
        }
    }

    private int Order(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => reverse ? b.SequenceCompareTo(a) : a.SequenceCompareTo(b);

    /// <summary>A value this transaction wrote: it has no committed version yet.</summary>
    private static KvEntry Buffered(ByteString key, ByteString value) => new(key.Memory, value.Memory, default);
}
