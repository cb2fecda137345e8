using Google.Protobuf;
using Kv.Storage.Mvcc;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Ranges;

/// <summary>Helpers over the wire <see cref="Wire.RangeDescriptor"/>, which is also how descriptors are stored.</summary>
public static class Descriptors
{
    /// <summary>A descriptor with no endpoints (they come from the address book, not from storage).</summary>
    public static Wire.RangeDescriptor Create(ulong rangeId, KeySpan span, ulong generation, IEnumerable<(int NodeId, bool Learner)> replicas)
    {
        var d = new Wire.RangeDescriptor
        {
            RangeId = rangeId,
            StartKey = ByteString.CopyFrom(span.Start),
            EndKey = span.End is null ? ByteString.Empty : ByteString.CopyFrom(span.End),
            Generation = generation,
        };
        foreach (var (node, learner) in replicas) d.Replicas.Add(new Wire.Replica { NodeId = (ulong)node, Learner = learner });
        return d;
    }

    /// <summary>The user keys the range owns.</summary>
    public static KeySpan SpanOf(Wire.RangeDescriptor d) =>
        new(d.StartKey.ToByteArray(), d.EndKey.IsEmpty ? null : d.EndKey.ToByteArray());

    /// <summary>Whether the range owns <paramref name="key"/>.</summary>
    public static bool Contains(Wire.RangeDescriptor d, ReadOnlySpan<byte> key) =>
        key.SequenceCompareTo(d.StartKey.Span) >= 0 && (d.EndKey.IsEmpty || key.SequenceCompareTo(d.EndKey.Span) < 0);

    /// <summary>A one-line description for logs and errors.</summary>
    public static string Describe(Wire.RangeDescriptor d) => $"range {d.RangeId} {SpanOf(d)} gen {d.Generation}";
}
