namespace Kv.Txn.Ranges;

/// <summary>
/// Meta-column-family keys of what a range keeps about transactions, written in the batch of the command that
/// changes it (so they never disagree with the staged versions after a crash).
/// </summary>
internal static class TxnStateKeys
{
    public static string Prefix(ulong rangeId) => $"txn/{rangeId:D20}/";

    public static string Record(ulong rangeId, string txnHex) => $"{Prefix(rangeId)}record/{txnHex}";

    public static string Lock(ulong rangeId, string keyHex, string txnHex) => $"{Prefix(rangeId)}lock/{keyHex}/{txnHex}";

    public static string SpanLock(ulong rangeId, string startHex, string txnHex) => $"{Prefix(rangeId)}span-lock/{startHex}/{txnHex}";

    public static string Finished(ulong rangeId, string txnHex) => $"{Prefix(rangeId)}finished/{txnHex}";

    public static string Floor(ulong rangeId, string keyHex) => $"{Prefix(rangeId)}floor/{keyHex}";

    public static string FloorLow(ulong rangeId) => $"{Prefix(rangeId)}floor-low";

    public static string Closed(ulong rangeId) => $"{Prefix(rangeId)}closed";
}
