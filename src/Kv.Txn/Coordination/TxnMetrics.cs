using System.Diagnostics;
using System.Diagnostics.Metrics;
using Kv.Proto.V1;

namespace Kv.Txn.Coordination;

/// <summary>
/// The coordinator's instruments, on the meter <see cref="MeterName"/> (docs/observability.md): commits by protocol
/// and outcome, and how long they took. Created from the host's <see cref="IMeterFactory"/>; hand it to the
/// coordinator in <see cref="TxnCoordinatorOptions.Metrics"/>.
/// </summary>
public sealed class TxnMetrics
{
    /// <summary>The meter's name, for exporters to subscribe to.</summary>
    public const string MeterName = "Kv.Txn";

    private static readonly IReadOnlyList<double> SecondsBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _commits;
    private readonly Histogram<double> _commitSeconds;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public TxnMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _commits = meter.CreateCounter<long>("kv.txn.commits", "{transaction}",
            "Transaction commits this node coordinated or finished for a client that staged them, by protocol (paxos, two_phase) and outcome (committed, conflict, unknown, failed).");
        _commitSeconds = meter.CreateHistogram("kv.txn.commit.duration", "s", "Duration of a commit this node coordinated, by protocol.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
    }

    /// <summary>
    /// Awaits the finish of a commit the client staged and counts its outcome (protocol <c>paxos</c>). Its duration is
    /// not recorded: the commit ran in the client, and only the client saw how long it took.
    /// </summary>
    internal static Task<CommitOutcome> RecordFinishAsync(TxnMetrics? metrics, Task<CommitOutcome> finish) =>
        RecordAsync(metrics, CommitProtocol.Paxos, finish, withDuration: false);

    /// <summary>Awaits <paramref name="commit"/> and records its protocol, outcome and duration (also when it throws).</summary>
    internal static Task<CommitOutcome> RecordAsync(TxnMetrics? metrics, CommitProtocol protocol, Task<CommitOutcome> commit) =>
        RecordAsync(metrics, protocol, commit, withDuration: true);

    private static async Task<CommitOutcome> RecordAsync(TxnMetrics? metrics, CommitProtocol protocol, Task<CommitOutcome> commit, bool withDuration)
    {
        if (metrics is null) return await commit.ConfigureAwait(false);
        long started = Stopwatch.GetTimestamp();
        string outcome = "failed";
        try
        {
            var result = await commit.ConfigureAwait(false);
            outcome = result.Status == CommitStatus.Committed ? "committed" : "conflict";
            return result;
        }
        catch (TxnOutcomeUnknownException)
        {
            outcome = "unknown";
            throw;
        }
        finally
        {
            string protocolTag = protocol == CommitProtocol.TwoPhase ? "two_phase" : "paxos";
            metrics._commits.Add(1, new KeyValuePair<string, object?>("protocol", protocolTag), new KeyValuePair<string, object?>("outcome", outcome));
            if (withDuration)
                metrics._commitSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("protocol", protocolTag));
        }
    }
}
