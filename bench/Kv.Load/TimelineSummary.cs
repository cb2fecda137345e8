using System.Globalization;

namespace Kv.Load;

/// <summary>
/// What a timeline run shows around a coordinator kill (<c>--events FILE</c>: lines <c>kill EPOCH_MS NODE</c> and
/// <c>restart EPOCH_MS NODE</c> that the script appended). Times are seconds since the run's start unless named
/// <c>…AfterKillS</c>. Null: not measured (no such event, or it did not happen within the run).
/// </summary>
internal sealed record TimelineSummary
{
    /// <summary>The window before the kill that sets the baseline.</summary>
    private const double BaselineS = 5;

    /// <summary>Throughput counts as recovered when a whole second after the kill reaches this share of the baseline.</summary>
    private const double RecoveredShare = 0.8;

    public double? KillAtS { get; init; }
    public int KilledNode { get; init; }

    /// <summary>How many ranges (the meta range included) the killed node led in the last sample before the kill.</summary>
    public int KilledNodeLedRanges { get; init; }
    public double? RestartAtS { get; init; }

    /// <summary>The node most commits went to in the 2 s before the kill, and its share of them.</summary>
    public int CoordinatorBeforeKill { get; init; }
    public double CoordinatorShareBeforeKill { get; init; }

    public double OpsPerSecondBeforeKill { get; init; }
    public double? OpsPerSecondKillToRestart { get; init; }
    public double? OpsPerSecondAfterRestart { get; init; }

    /// <summary>The lowest throughput of a whole second from the kill on (seconds aligned on the kill).</summary>
    public double? LowestSecondOpsPerSecond { get; init; }

    /// <summary>How long 200 ms intervals with no successful transaction lasted in total after the kill.</summary>
    public double ZeroThroughputS { get; init; }

    /// <summary>From the kill until a whole second ran at ≥ 80 % of the baseline throughput again (its start).</summary>
    public double? ThroughputRecoveredAfterKillS { get; init; }

    /// <summary>From the kill until every range had a leader on a live node again (null: not within the run).</summary>
    public double? AllRangesLedAfterKillS { get; init; }

    /// <summary>Transactions whose commit failed at or after the kill (client's view of in-doubt transactions).</summary>
    public int InDoubtTransactions { get; init; }

    /// <summary>From the kill until the last key of those answered a read; null if some did not by the end of the run.</summary>
    public double? InDoubtResolvedAfterKillS { get; init; }

    /// <summary>Whether every in-doubt transaction's keys were usable before the coordinator restarted.</summary>
    public bool? InDoubtResolvedBeforeRestart { get; init; }

    /// <summary>The longest an in-doubt key stayed unreadable after its range could serve again (a control key of it answered): the lock alone.</summary>
    public double? InDoubtLockWaitMaxS { get; init; }

    /// <summary>
    /// Transactions answered committed in the second before the failure, probed too because their publish may have
    /// been pending at the dead node; and when the last of their keys answered a read (null: not all by the end).
    /// Their keys can also wait, briefly, for locks of newer transactions stuck behind an election.
    /// </summary>
    public int AnsweredProbed { get; init; }
    public double? AnsweredUsableAfterKillS { get; init; }

    /// <summary>The time until every blocked key (of both kinds) was usable again, from the kill; null: not all by the end.</summary>
    public double? AllKeysUsableAfterKillS { get; init; }

    /// <summary>Transaction locks (per range, the most any live replica holds; summed) in the baseline window: in-flight transactions.</summary>
    public double LocksBeforeKillMean { get; init; }
    public int LocksBeforeKillMax { get; init; }
    public int LocksMaxAfterKill { get; init; }

    /// <summary>The first sample after the kill with no lock at all on the surviving nodes.</summary>
    public double? LocksZeroAfterKillS { get; init; }

    /// <summary>
    /// From the kill until the locks were back within the baseline's range (≤ its maximum) for good: after the last
    /// sample above it (before the restart if that is when it happened, else up to the end of the run).
    /// </summary>
    public double? LocksBackToBaselineAfterKillS { get; init; }
    public bool? LocksBackBeforeRestart { get; init; }

    /// <summary>When the workers stopped starting transactions (warmup + measured window).</summary>
    public double LoadStoppedAtS { get; init; }

    /// <summary>From then until a sample found no lock on any node (null: not within the drain, <c>--drain-seconds</c>).</summary>
    public double? LocksZeroAfterLoadStopS { get; init; }

    public static TimelineSummary? From(Timeline timeline, string eventsPath, double warmupSeconds, double loadSeconds)
    {
        if (!File.Exists(eventsPath)) return null;
        double? kill = null, restart = null;
        int killed = 0;
        foreach (var line in File.ReadAllLines(eventsPath))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long epochMs)) continue;
            double at = (epochMs - timeline.StartEpochMs) / 1000.0;
            if (parts[0] == "kill" && kill is null)
            {
                kill = at;
                if (parts.Length > 2) _ = int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out killed);
            }
            else if (parts[0] == "restart" && restart is null)
            {
                restart = at;
            }
        }
        if (kill is not { } k) return null;
        var rows = timeline.Rows;
        double stopped = warmupSeconds + loadSeconds;
        double end = rows.Count > 0 ? Math.Min(rows[^1].TS, stopped) : k;
        double outageEnd = restart ?? end;

        var before = rows.Where(r => r.TS > Math.Max(warmupSeconds, k - BaselineS) && r.TS <= k).ToArray();
        double baseline = Rate(rows, Math.Max(warmupSeconds, k - BaselineS), k);
        var lastTwo = rows.Where(r => r.TS > k - 2 && r.TS <= k).ToArray();
        long commitsBefore = lastTwo.Sum(r => r.CommitsByNode.Sum());
        int coordinator = 0;
        long most = 0;
        for (int n = 1; lastTwo.Length > 0 && n < lastTwo[0].CommitsByNode.Length; n++)
        {
            long c = lastTwo.Sum(r => r.CommitsByNode[n]);
            if (c > most) (coordinator, most) = (n, c);
        }

        double? lowest = null, recovered = null;
        for (double from = k; from + 1 <= end + 1e-9; from += 1)
        {
            double rate = Rate(rows, from, from + 1);
            lowest = lowest is null ? rate : Math.Min(lowest.Value, rate);
        }
        foreach (var r in rows.Where(r => r.TS > k))
        {
            double from = r.TS - Timeline.Interval.TotalSeconds;
            if (from + 1 > end + 1e-9) break;
            if (Rate(rows, from, from + 1) >= RecoveredShare * baseline) { recovered = Math.Max(0, from - k); break; }
        }

        var entries = timeline.Tracker?.Entries ?? [];
        var failed = entries.Where(e => e.Kind == InDoubtTracker.Kind.CommitFailed && e.SinceStartS >= k - 0.5).ToArray();
        double? failedResolved = failed.Length == 0 ? 0
            : failed.All(e => e.UsableAtS is not null) ? Math.Max(0, failed.Max(e => e.UsableAtS!.Value) - k) : null;
        var answered = entries.Where(e => e.Kind == InDoubtTracker.Kind.AnsweredBeforeFailure && e.SinceStartS >= k - 0.5).ToArray();
        double? answeredUsable = answered.Length == 0 ? 0
            : answered.All(e => e.UsableAtS is not null) ? Math.Max(0, answered.Max(e => e.UsableAtS!.Value) - k) : null;
        double? lockWait = failed.Length == 0 ? 0 : failed.All(e => e.LockWaitS is not null) ? failed.Max(e => e.LockWaitS!.Value) : null;
        int rangesBefore = before.Length > 0 ? before.Max(r => r.Ranges) : 0;
        // The first sample may still show the dead node's last answer (it counts for up to 1 s, until a poll fails):
        // look for the dip first, then for its end. No dip: the node led no range.
        var dip = rows.FirstOrDefault(r => r.TS > k && r.RangesLed < rangesBefore);
        var allLed = dip is null ? null : rows.FirstOrDefault(r => r.TS > dip.TS && r.RangesLed >= rangesBefore && r.Ranges >= rangesBefore);

        var drained = rows.FirstOrDefault(r => r.TS > stopped && r.Locks == 0 && r.LiveNodes == r.LocksByNode.Length - 1);
        var after = rows.Where(r => r.TS > k && r.TS <= stopped).ToArray();
        int baselineMax = before.Length > 0 ? before.Max(r => r.Locks) : 0;
        var zero = after.FirstOrDefault(r => r.Locks == 0 && r.LiveNodes > 0);
        // The last sample above the baseline's maximum, within the outage if the locks came back in it, else at all.
        var outage = after.Where(r => r.TS <= outageEnd).ToArray();
        var lastHigh = outage.LastOrDefault(r => r.Locks > baselineMax);
        bool backInOutage = lastHigh is null || outage.Any(r => r.TS > lastHigh.TS);
        if (!backInOutage) lastHigh = after.LastOrDefault(r => r.Locks > baselineMax);
        double? backAfter = lastHigh is null ? 0
            : after.Any(r => r.TS > lastHigh.TS) ? lastHigh.TS - k : null;

        return new TimelineSummary
        {
            KillAtS = k,
            KilledNode = killed,
            KilledNodeLedRanges = before.LastOrDefault() is { } last && killed >= 1 && killed < last.LeadersByNode.Length ? Math.Max(0, last.LeadersByNode[killed]) : 0,
            RestartAtS = restart,
            CoordinatorBeforeKill = coordinator,
            CoordinatorShareBeforeKill = commitsBefore > 0 ? (double)most / commitsBefore : 0,
            OpsPerSecondBeforeKill = baseline,
            OpsPerSecondKillToRestart = restart is { } rs ? Rate(rows, k, rs) : null,
            OpsPerSecondAfterRestart = restart is { } rs2 && end > rs2 ? Rate(rows, rs2, end) : null,
            LowestSecondOpsPerSecond = lowest,
            ZeroThroughputS = after.Count(r => r.Ops == 0) * Timeline.Interval.TotalSeconds,
            ThroughputRecoveredAfterKillS = recovered,
            AllRangesLedAfterKillS = dip is null ? 0 : allLed is null ? null : allLed.TS - k,
            InDoubtTransactions = failed.Length,
            InDoubtLockWaitMaxS = lockWait,
            InDoubtResolvedAfterKillS = failedResolved,
            InDoubtResolvedBeforeRestart = failedResolved is { } fr ? restart is null || k + fr < restart : false,
            AnsweredProbed = answered.Length,
            AnsweredUsableAfterKillS = answeredUsable,
            AllKeysUsableAfterKillS = failedResolved is { } f1 && answeredUsable is { } a1 ? Math.Max(f1, a1) : null,
            LocksBeforeKillMean = before.Length > 0 ? before.Average(r => r.Locks) : 0,
            LocksBeforeKillMax = baselineMax,
            LocksMaxAfterKill = after.Length > 0 ? after.Max(r => r.Locks) : 0,
            LocksZeroAfterKillS = zero is null ? null : zero.TS - k,
            LocksBackToBaselineAfterKillS = backAfter,
            LocksBackBeforeRestart = backAfter is { } b ? restart is null || k + b < restart : false,
            LoadStoppedAtS = stopped,
            LocksZeroAfterLoadStopS = drained is null ? null : drained.TS - stopped,
        };
    }

    /// <summary>Successful transactions per second over (from, to], from the 200 ms rows that end in it.</summary>
    private static double Rate(IReadOnlyList<TimelineRow> rows, double from, double to)
    {
        var inside = rows.Where(r => r.TS > from && r.TS <= to).ToArray();
        return to > from && inside.Length > 0 ? inside.Sum(r => r.Ops) / (to - from) : 0;
    }

    /// <summary>The summary as <c>name=value</c> pairs for the result line (empty value: not measured).</summary>
    public string SummaryFields()
    {
        static string S(double? v) => v is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) : "";
        static string B(bool? v) => v is { } x ? (x ? "yes" : "no") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"kill_at_s={S(KillAtS)} killed_node={KilledNode} killed_node_led={KilledNodeLedRanges} restart_at_s={S(RestartAtS)} coordinator_before_kill={CoordinatorBeforeKill} "
            + $"coordinator_share={CoordinatorShareBeforeKill:0.00} ops_per_s_before_kill={OpsPerSecondBeforeKill:0.0} "
            + $"ops_per_s_kill_to_restart={S(OpsPerSecondKillToRestart)} ops_per_s_after_restart={S(OpsPerSecondAfterRestart)} "
            + $"lowest_second_ops_per_s={S(LowestSecondOpsPerSecond)} zero_throughput_s={ZeroThroughputS:0.0} "
            + $"throughput_recovered_after_kill_s={S(ThroughputRecoveredAfterKillS)} all_ranges_led_after_kill_s={S(AllRangesLedAfterKillS)} "
            + $"in_doubt_txns={InDoubtTransactions} in_doubt_resolved_after_kill_s={S(InDoubtResolvedAfterKillS)} "
            + $"in_doubt_resolved_before_restart={B(InDoubtResolvedBeforeRestart)} in_doubt_lock_wait_max_s={S(InDoubtLockWaitMaxS)} "
            + $"answered_probed_txns={AnsweredProbed} answered_usable_after_kill_s={S(AnsweredUsableAfterKillS)} "
            + $"all_keys_usable_after_kill_s={S(AllKeysUsableAfterKillS)} "
            + $"locks_before_kill_mean={LocksBeforeKillMean:0.0} locks_before_kill_max={LocksBeforeKillMax} locks_max_after_kill={LocksMaxAfterKill} "
            + $"locks_zero_after_kill_s={S(LocksZeroAfterKillS)} locks_back_to_baseline_after_kill_s={S(LocksBackToBaselineAfterKillS)} "
            + $"locks_back_before_restart={B(LocksBackBeforeRestart)} load_stopped_at_s={LoadStoppedAtS:0.00} "
            + $"locks_zero_after_load_stop_s={S(LocksZeroAfterLoadStopS)}");
    }
}
