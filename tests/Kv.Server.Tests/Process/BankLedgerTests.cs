namespace Kv.Server.Tests.Process;

/// <summary>
/// The bank's checker (<see cref="BankLedger"/>) on fabricated states: a consistent one passes, and each kind of
/// wrong state is reported (a transfer applied half, applied twice, applied without its marker, a changed total, a
/// committed transfer missing, a refused one present, a marker that says something else).
/// </summary>
public sealed class BankLedgerTests
{
    private const int Accounts = 4;
    private const long Opening = 100;

    /// <summary>Transfer "a" (0→1, 10) committed, "b" (2→3, 5) outcome unknown and applied, "c" (1→2, 7) unknown and not applied, "d" aborted.</summary>
    private static readonly IReadOnlyList<BankTransfer> Transfers =
    [
        new("a", 0, 1, 10, TransferOutcome.Committed),
        new("b", 2, 3, 5, TransferOutcome.Unknown),
        new("c", 1, 2, 7, TransferOutcome.Unknown),
        new("d", 3, 0, 1, TransferOutcome.Aborted),
    ];

    private static Dictionary<int, long> Consistent() => new() { [0] = 90, [1] = 110, [2] = 95, [3] = 105 };

    private static Dictionary<string, string> Markers() => new(StringComparer.Ordinal) { ["a"] = "0>1:10", ["b"] = "2>3:5" };

    private static List<string> Verify(Dictionary<int, long> balances, Dictionary<string, string> markers) =>
        BankLedger.Verify(new BankState(balances, markers), Transfers, Accounts, Opening);

    [Fact]
    public void ConsistentState_PassesEveryCheck()
    {
        Assert.Empty(Verify(Consistent(), Markers()));
        Assert.Null(BankLedger.CheckTotal(Consistent(), Accounts, Opening));
    }

    [Fact]
    public void HalfAppliedTransfer_MarkerAndDebitWithoutTheCredit_IsReported()
    {
        var balances = Consistent();
        balances[1] -= 10; // "a" debited 0 and wrote its marker, but 1 never got the money
        var violations = Verify(balances, Markers());
        Assert.Contains(violations, v => v.StartsWith("acct/01 holds 100, but its opening balance and the markers give 110", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("total changed: 390", StringComparison.Ordinal));
    }

    [Fact]
    public void HalfAppliedTransfer_BothBalancesWithoutTheMarker_IsReported()
    {
        var balances = Consistent();
        balances[1] -= 7; // "c" (unknown outcome) moved the money, but its marker is missing: applied half
        balances[2] += 7;
        var violations = Verify(balances, Markers());
        Assert.Contains(violations, v => v.StartsWith("acct/01 holds 103", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("acct/02 holds 102", StringComparison.Ordinal));
        Assert.Null(BankLedger.CheckTotal(balances, Accounts, Opening)); // the total alone cannot see it
    }

    [Fact]
    public void DuplicatedTransfer_AppliedTwiceWithOneMarker_IsReported()
    {
        var balances = Consistent();
        balances[0] -= 10; // "a" applied a second time
        balances[1] += 10;
        var violations = Verify(balances, Markers());
        Assert.Contains(violations, v => v.StartsWith("acct/00 holds 80, but its opening balance and the markers give 90 (off by -10)", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("acct/01 holds 120", StringComparison.Ordinal));
    }

    [Fact]
    public void ChangedTotal_IsReported_InASnapshotAndAtTheEnd()
    {
        var balances = Consistent();
        balances[3] += 1;
        Assert.Equal("total changed: 401, opened with 400 (difference 1)", BankLedger.CheckTotal(balances, Accounts, Opening));
        Assert.Contains("total changed: 401, opened with 400 (difference 1)", Verify(balances, Markers()));
        balances.Remove(2);
        Assert.Equal("accounts missing: acct/02", BankLedger.CheckTotal(balances, Accounts, Opening));
    }

    [Fact]
    public void MarkersThatDisagreeWithTheClient_AreReported()
    {
        var missingCommitted = Markers();
        missingCommitted.Remove("a");
        Assert.Contains(Verify(Consistent(), missingCommitted), v => v.StartsWith("transfer a (0>1:10) was committed, but its marker is missing", StringComparison.Ordinal));

        var abortedPresent = Markers();
        abortedPresent["d"] = "3>0:1";
        Assert.Contains(Verify(Consistent(), abortedPresent), v => v.StartsWith("transfer d (3>0:1) was Aborted, but its marker exists", StringComparison.Ordinal));

        var wrongAmount = Markers();
        wrongAmount["b"] = "2>3:6";
        Assert.Contains(Verify(Consistent(), wrongAmount), v => v.StartsWith("marker b says 2>3:6, but the client sent 2>3:5", StringComparison.Ordinal));

        var stranger = Markers();
        stranger["z"] = "0>1:0";
        Assert.Contains(Verify(Consistent(), stranger), v => v.StartsWith("marker z (0>1:0) belongs to no transfer", StringComparison.Ordinal));

        var garbage = Markers();
        garbage["b"] = "oops";
        Assert.Contains(Verify(Consistent(), garbage), v => v.StartsWith("marker b is malformed", StringComparison.Ordinal));
    }
}
