using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Kv.Server.Telemetry;

/// <summary>
/// Progress of cluster-wide snapshots at this node (docs/snapshots.md): creations it coordinates (in progress, by
/// outcome, how long), the pieces it had chosen through range logs and how many had to wait for a transaction, and
/// the bytes it exported from its checkpoints. No per-snapshot tags: names are unbounded.
/// </summary>
public sealed class SnapshotMetrics
{
    private readonly Counter<long> _creates;
    private readonly Histogram<double> _createDuration;
    private readonly UpDownCounter<long> _creating;
    private readonly Counter<long> _pieces;
    private readonly Counter<long> _piecesWaited;
    private readonly Counter<long> _exportBytes;

    /// <summary>Creates the instruments on a meter of <paramref name="meterFactory"/>.</summary>
    public SnapshotMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(ReplicaMetrics.MeterName);
        _creates = meter.CreateCounter<long>("kv.snapshot.creates", "{snapshot}",
            "Snapshot creations this node coordinated, by outcome (published, failed).");
        _createDuration = meter.CreateHistogram<double>("kv.snapshot.create.duration", "s",
            "Time from a snapshot's timestamp being picked to its manifest being published, or to its failure.");
        _creating = meter.CreateUpDownCounter<long>("kv.snapshot.creating", "{snapshot}",
            "Snapshot creations this node is coordinating now.");
        _pieces = meter.CreateCounter<long>("kv.snapshot.pieces", "{piece}",
            "Snapshot pieces this node had chosen through range logs (one per range per snapshot).");
        _piecesWaited = meter.CreateCounter<long>("kv.snapshot.pieces.waited", "{piece}",
            "Pieces a range refused at first because a transaction was staged at or below the snapshot's timestamp.");
        _exportBytes = meter.CreateCounter<long>("kv.snapshot.export.bytes", "By",
            "Key and value bytes this node streamed from its snapshot checkpoints (Snapshots.Export).");
    }

    /// <summary>A creation starts; dispose the result when it ends, after <see cref="CreateScope.Published"/> if it did.</summary>
    public CreateScope StartCreate()
    {
        _creating.Add(1);
        return new CreateScope(this, Stopwatch.GetTimestamp());
    }

    /// <summary>A piece was chosen.</summary>
    public void PieceTaken() => _pieces.Add(1);

    /// <summary>A piece was refused for a transaction's lock (and will be retried).</summary>
    public void PieceWaited() => _piecesWaited.Add(1);

    /// <summary><paramref name="bytes"/> of keys and values exported.</summary>
    public void Exported(long bytes) => _exportBytes.Add(bytes);

    /// <summary>One creation, from start to end.</summary>
    public sealed class CreateScope(SnapshotMetrics metrics, long startedAt) : IDisposable
    {
        private bool _published;
        private bool _disposed;

        /// <summary>The manifest was published.</summary>
        public void Published() => _published = true;

        /// <inheritdoc />
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            var outcome = new KeyValuePair<string, object?>("outcome", _published ? "published" : "failed");
            metrics._creating.Add(-1);
            metrics._creates.Add(1, outcome);
            metrics._createDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, outcome);
        }
    }
}
