using Kv.Proto.V1;

namespace Kv.Server.Snapshots;

/// <summary>Whether a snapshot's pieces cover the whole key space (a split may have moved part of a range elsewhere).</summary>
internal static class SnapshotCoverage
{
    /// <summary>The first key no piece covers (empty = the very start), or null when the pieces cover every key.</summary>
    public static byte[]? Gap(IEnumerable<RangeDescriptor> pieces)
    {
        byte[] cursor = [];
        foreach (var p in pieces.OrderBy(p => p.StartKey.ToByteArray(), ByteOrder.Instance))
        {
            if (p.StartKey.Span.SequenceCompareTo(cursor) > 0) return cursor;
            if (p.EndKey.IsEmpty) return null;
            if (p.EndKey.Span.SequenceCompareTo(cursor) > 0) cursor = p.EndKey.ToByteArray();
        }
        return cursor;
    }

    /// <summary>Whether the pieces together cover every key of <paramref name="range"/>.</summary>
    public static bool IsCovered(IEnumerable<RangeDescriptor> pieces, RangeDescriptor range)
    {
        byte[] cursor = range.StartKey.ToByteArray();
        foreach (var p in pieces.OrderBy(p => p.StartKey.ToByteArray(), ByteOrder.Instance))
        {
            if (p.StartKey.Span.SequenceCompareTo(cursor) > 0) break;
            if (p.EndKey.IsEmpty) return true;
            if (p.EndKey.Span.SequenceCompareTo(cursor) > 0) cursor = p.EndKey.ToByteArray();
            if (!range.EndKey.IsEmpty && cursor.AsSpan().SequenceCompareTo(range.EndKey.Span) >= 0) return true;
        }
        return false;
    }
}

/// <summary>Orders keys as bytes.</summary>
internal sealed class ByteOrder : IComparer<byte[]>
{
    public static readonly ByteOrder Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
