namespace Kv.Storage.Meta;

/// <summary>
/// The keys of the <c>meta</c> column family (docs/storage-ranges.md). Keys are UTF-8 strings of
/// slash-separated parts, most general first, so that <see cref="MetaStore.List"/> by prefix finds a family.
/// </summary>
public static class MetaKeys
{
    /// <summary>This node's id (one value per node).</summary>
    public const string NodeId = "node/id";

    /// <summary>Prefix of every range descriptor key.</summary>
    public const string RangePrefix = "range/";

    /// <summary>
    /// <c>range/&lt;id&gt;</c>: the descriptor of range <paramref name="rangeId"/> held by this node. The id is
    /// 20 zero-padded decimal digits, so byte order is numeric order and a prefix listing comes out by id.
    /// </summary>
    public static string Range(ulong rangeId) => $"{RangePrefix}{rangeId:D20}";
}
