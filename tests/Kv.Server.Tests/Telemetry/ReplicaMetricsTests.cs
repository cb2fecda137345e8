using System.Diagnostics.Metrics;
using Kv.Paxos;
using Kv.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Kv.Server.Tests.Telemetry;

/// <summary>What <see cref="ReplicaMetrics"/> reads from a real Paxos core's Readies, recorded with an in-box listener.</summary>
public sealed class ReplicaMetricsTests
{
    [Fact]
    public void SoleVoter_WinningWithinOneStep_CountsOneElection_AndNoLeaderChange()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var recorded = new Recorded(factory);
        var metrics = new ReplicaMetrics(factory, () => []);
        var core = new Replica(new ReplicaOptions { ReplicaId = 1, ElectionTimeoutTicks = 10, HeartbeatIntervalTicks = 2 },
            PersistentState.Bootstrap(new Kv.Paxos.Configuration([1])), new Random(1));

        for (int tick = 0; tick < 100 && !core.IsLeader; tick++)
        {
            core.Tick();
            var ready = core.TakeReady();
            if (!ready.IsEmpty) metrics.ObserveReady(5, core, ready);
        }
        Assert.True(core.IsLeader);
        Assert.Equal(ReplicaRole.Leader, core.Role);
        Assert.Equal(1, recorded.Sum("kv.paxos.elections"));
        Assert.Equal(0, recorded.Sum("kv.paxos.leader_changes"));
        Assert.All(recorded.Tags, t => Assert.Equal(5UL, t));

        // Further rounds as leader are no new election.
        for (int tick = 0; tick < 20; tick++)
        {
            core.Tick();
            var ready = core.TakeReady();
            if (!ready.IsEmpty) metrics.ObserveReady(5, core, ready);
        }
        Assert.Equal(1, recorded.Sum("kv.paxos.elections"));
    }

    /// <summary>Sums what this test's meters record per instrument (other tests' meters are ignored by scope).</summary>
    private sealed class Recorded : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _sums = [];

        public Recorded(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument is Counter<long>) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                lock (_sums)
                {
                    _sums[instrument.Name] = _sums.GetValueOrDefault(instrument.Name) + value;
                    foreach (var tag in tags) if (tag.Key == "range_id") Tags.Add(tag.Value);
                }
            });
            _listener.Start();
        }

        public List<object?> Tags { get; } = [];

        public long Sum(string name)
        {
            lock (_sums) return _sums.GetValueOrDefault(name);
        }

        public void Dispose() => _listener.Dispose();
    }
}
