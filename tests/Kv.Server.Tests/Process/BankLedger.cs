using System.Globalization;

namespace Kv.Server.Tests.Process;

/// <summary>What the client learnt of one transfer.</summary>
internal enum TransferOutcome
{
    /// <summary>The commit answered: committed. It must be applied, exactly once.</summary>
    Committed,

    /// <summary>Every attempt conflicted (the commit answered aborted). It must not be applied.</summary>
    Aborted,

    /// <summary>It failed before its commit was sent (a read failed, or no node accepted the commit). It must not be applied.</summary>
    NotSent,

    /// <summary>The source account had too little; nothing was written. It must not be applied.</summary>
    Skipped,

    /// <summary>The commit was sent and no answer came back: applied entirely or not at all, as its marker says.</summary>
    Unknown,
}

/// <summary>A transfer the workload attempted: its id (the marker's key), the accounts, the amount and its outcome.</summary>
internal sealed record BankTransfer(string Id, int From, int To, long Amount, TransferOutcome Outcome);

/// <summary>The accounts' balances (by account index) and the transfer markers (by transfer id), read at one timestamp.</summary>
internal sealed record BankState(IReadOnlyDictionary<int, long> Balances, IReadOnlyDictionary<string, string> Markers);

/// <summary>
/// The bank's keys and its checks. An account is <c>acct/NN</c> holding its balance; a transfer writes, in the same
/// transaction as both balances, its marker <c>xfer/ID</c> = <c>FROM&gt;TO:AMOUNT</c>. So at any one timestamp:
/// the balances add up to the opening total; each account's balance is its opening balance plus the amounts of the
/// markers that credit it minus those that debit it (a transfer applied twice, applied half, or applied without its
/// marker breaks that equation for its accounts); a marker exists for every transfer the client saw committed and for
/// none it saw refused, and says what the client sent.
/// </summary>
internal static class BankLedger
{
    public const string AccountPrefix = "acct/";
    public const string MarkerPrefix = "xfer/";

    public static string AccountKey(int account) => AccountPrefix + account.ToString("D2", CultureInfo.InvariantCulture);

    public static string MarkerKey(string transferId) => MarkerPrefix + transferId;

    public static string MarkerValue(int from, int to, long amount) =>
        string.Create(CultureInfo.InvariantCulture, $"{from}>{to}:{amount}");

    /// <summary>The account index of an account key, or null.</summary>
    public static int? AccountOf(string key) =>
        key.StartsWith(AccountPrefix, StringComparison.Ordinal)
        && int.TryParse(key.AsSpan(AccountPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : null;

    /// <summary>A marker's accounts and amount, or null when it is not one.</summary>
    public static (int From, int To, long Amount)? ParseMarker(string value)
    {
        int arrow = value.IndexOf('>', StringComparison.Ordinal), colon = value.IndexOf(':', StringComparison.Ordinal);
        if (arrow <= 0 || colon <= arrow) return null;
        var inv = CultureInfo.InvariantCulture;
        return int.TryParse(value.AsSpan(0, arrow), NumberStyles.None, inv, out int from)
               && int.TryParse(value.AsSpan(arrow + 1, colon - arrow - 1), NumberStyles.None, inv, out int to)
               && long.TryParse(value.AsSpan(colon + 1), NumberStyles.None, inv, out long amount)
            ? (from, to, amount) : null;
    }

    /// <summary>
    /// A snapshot of the balances alone (taken while transfers run): every account is there and the total is the
    /// opening total. Null when it holds, else what is wrong.
    /// </summary>
    public static string? CheckTotal(IReadOnlyDictionary<int, long> balances, int accounts, long opening)
    {
        var missing = Enumerable.Range(0, accounts).Where(a => !balances.ContainsKey(a)).ToList();
        if (missing.Count > 0) return $"accounts missing: {string.Join(", ", missing.Select(AccountKey))}";
        long total = balances.Values.Sum(), expected = accounts * opening;
        return total == expected ? null : $"total changed: {total}, opened with {expected} (difference {total - expected})";
    }

    /// <summary>
    /// Everything that is wrong in the final <paramref name="state"/> given the <paramref name="transfers"/> the
    /// client attempted (each id once), or an empty list.
    /// </summary>
    public static List<string> Verify(BankState state, IReadOnlyList<BankTransfer> transfers, int accounts, long opening)
    {
        var violations = new List<string>();
        if (CheckTotal(state.Balances, accounts, opening) is { } total) violations.Add(total);

        var byId = transfers.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var expected = Enumerable.Range(0, accounts).ToDictionary(a => a, _ => opening);
        foreach (var (id, value) in state.Markers.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (ParseMarker(value) is not { } marker)
            {
                violations.Add($"marker {id} is malformed: '{value}'");
                continue;
            }
            if (!byId.TryGetValue(id, out var sent)) violations.Add($"marker {id} ({value}) belongs to no transfer the client made");
            else if ((sent.From, sent.To, sent.Amount) != marker)
                violations.Add($"marker {id} says {value}, but the client sent {MarkerValue(sent.From, sent.To, sent.Amount)}");
            if (!expected.ContainsKey(marker.From) || !expected.ContainsKey(marker.To))
            {
                violations.Add($"marker {id} ({value}) names an account that does not exist");
                continue;
            }
            expected[marker.From] -= marker.Amount;
            expected[marker.To] += marker.Amount;
        }

        foreach (var t in transfers)
        {
            bool applied = state.Markers.ContainsKey(t.Id);
            if (t.Outcome == TransferOutcome.Committed && !applied)
                violations.Add($"transfer {t.Id} ({MarkerValue(t.From, t.To, t.Amount)}) was committed, but its marker is missing");
            if (t.Outcome is TransferOutcome.Aborted or TransferOutcome.NotSent or TransferOutcome.Skipped && applied)
                violations.Add($"transfer {t.Id} ({MarkerValue(t.From, t.To, t.Amount)}) was {t.Outcome}, but its marker exists");
        }

        // Each account's balance is the opening balance moved by exactly the transfers whose marker exists.
        foreach (var (account, want) in expected)
        {
            if (state.Balances.TryGetValue(account, out long have) && have != want)
                violations.Add($"{AccountKey(account)} holds {have}, but its opening balance and the markers give {want} (off by {have - want}): " +
                               "a transfer applied twice, half, or without its marker");
        }
        return violations;
    }
}
