namespace Kv.Server.Ranges;

/// <summary>
/// Meta-column-family keys of a range replica's state machine, written in the same batch as the data they
/// describe so that "applied up to" and the client sessions never disagree with the MVCC data after a crash.
/// </summary>
internal static class RangeStateKeys
{
    public static string Applied(ulong rangeId) => $"applied/{rangeId:D20}";

    public static string SessionPrefix(ulong rangeId) => $"session/{rangeId:D20}/";

    public static string Session(ulong rangeId, long clientId) => $"{SessionPrefix(rangeId)}{clientId:D20}";
}
