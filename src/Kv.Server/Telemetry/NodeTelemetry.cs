using System.Diagnostics.Metrics;
using Kv.Server.Configuration;
using Kv.Server.Replication;
using Kv.Storage.GroupCommit;
using Kv.Txn.Coordination;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Kv.Server.Telemetry;

/// <summary>
/// One node's telemetry: its own <see cref="IMeterFactory"/> (the meters of every layer come from it), the
/// instruments of each layer, and the OpenTelemetry providers that export them: Prometheus on
/// <see cref="NodeOptions.MetricsListen"/> when set, traces over OTLP when <see cref="NodeOptions.OtlpEndpoint"/> is
/// set. Without either, instruments and spans cost a check each and nothing is collected.
/// <para>
/// Several nodes may run in one process (tests, <c>dev</c>), and a meter listener sees every meter of the process;
/// so each node's meters are created by its own factory, and the node's metrics provider drops any instrument
/// whose meter another factory made (<see cref="Meter.Scope"/>).
/// </para>
/// </summary>
public sealed class NodeTelemetry : IDisposable
{
    /// <summary>The service name in exported resources.</summary>
    public const string ServiceName = "kv-server";

    /// <summary>
    /// The most series one metric may have on a node; past it OpenTelemetry folds new tag sets into one overflow
    /// series (<c>otel_metric_overflow="true"</c>), so memory stays bounded however many ranges come and go.
    /// </summary>
    public const int SeriesPerMetricMax = 2000;

    private readonly ServiceProvider _meterServices;
    private ReplicaMetrics? _replicas;

    /// <summary>Creates the node's meter factory and the storage and transaction instruments.</summary>
    public NodeTelemetry(NodeOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _meterServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        MeterFactory = _meterServices.GetRequiredService<IMeterFactory>();
        Storage = new GroupCommitMetrics(MeterFactory);
        Transactions = new TxnMetrics(MeterFactory);
        Snapshots = new SnapshotMetrics(MeterFactory);
    }

    /// <summary>The settings the node runs with.</summary>
    public NodeOptions Options { get; }

    /// <summary>This node's meter factory.</summary>
    public IMeterFactory MeterFactory { get; }

    /// <summary>The group committer's instruments.</summary>
    public GroupCommitMetrics Storage { get; }

    /// <summary>The transaction coordinator's instruments.</summary>
    public TxnMetrics Transactions { get; }

    /// <summary>Snapshot progress: creations coordinated here, pieces, exported bytes.</summary>
    public SnapshotMetrics Snapshots { get; }

    /// <summary>Creates the replica host's instruments over <paramref name="replicas"/> (once the host exists).</summary>
    public ReplicaMetrics ReplicasOf(Func<IReadOnlyList<ReplicaStatus>> replicas) =>
        _replicas ??= new ReplicaMetrics(MeterFactory, replicas);

    /// <summary>Creates the peer transport's instruments over <paramref name="peers"/>.</summary>
    public PeerMetrics PeersOf(Func<IReadOnlyList<Peers.PeerStats>> peers) => new(MeterFactory, peers);

    /// <summary>Whether <see cref="AddTo"/> registers a metrics provider (a metrics endpoint is configured).</summary>
    public bool ExportsMetrics => Options.MetricsListen is not null;

    /// <summary>
    /// Registers this node's meter factory and, as configured, the Prometheus exporter and the OTLP trace exporter
    /// in the node's web host; <see cref="Api.KvServerSetup.MapMetricsEndpoints"/> serves the scrape endpoint.
    /// </summary>
    public void AddTo(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // The web host's own meters (Kestrel, hosting) come from this factory too, so the filter below keeps them
        // to this node.
        builder.Services.AddSingleton(MeterFactory);
        if (!ExportsMetrics && Options.OtlpEndpoint is null) return;
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName, serviceInstanceId: Options.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (ExportsMetrics)
        {
            otel.WithMetrics(m => m
                .AddMeter(ReplicaMetrics.MeterName, GroupCommitMetrics.MeterName, TxnMetrics.MeterName)
                .AddView(instrument => instrument.Meter.Scope == MeterFactory
                    ? new MetricStreamConfiguration { CardinalityLimit = SeriesPerMetricMax }
                    : MetricStreamConfiguration.Drop)
                .AddPrometheusExporter());
        }
        if (Options.OtlpEndpoint is { } endpoint)
        {
            // Microsoft.AspNetCore: the server span of each incoming call, whose parent is the caller's traceparent.
            otel.WithTracing(t => t
                .AddSource(KvTracing.SourceName, "Microsoft.AspNetCore")
                .AddOtlpExporter(o => o.Endpoint = endpoint));
        }
    }

    /// <summary>
    /// Starts the configured providers now, before replication starts, rather than when the web host starts: a
    /// measurement made while no provider listens is lost (the first elections, every range's zeroed counters).
    /// </summary>
    public void StartExporters(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.GetService<MeterProvider>();
        services.GetService<TracerProvider>();
    }

    /// <inheritdoc />
    public void Dispose() => _meterServices.Dispose();
}
