namespace Kv.Server.Ranges;

/// <summary>The range ids every cluster starts with. Later ranges get ids reserved in the meta range.</summary>
public static class RangeIds
{
    /// <summary>The meta range: the replicated directory of every range's descriptor. It holds no user keys.</summary>
    public const ulong Meta = 1;

    /// <summary>The first user range, created by <c>init</c> over the whole key space.</summary>
    public const ulong FirstUser = 2;

    /// <summary>The first id the meta range hands out.</summary>
    public const ulong FirstAllocated = 3;
}
