namespace Kv.Server.Tests.Telemetry;

/// <summary>
/// The tracing tests share one cluster and run alone: a listener on an <see cref="System.Diagnostics.ActivitySource"/> is
/// process-wide, so a test that needs "nobody listens" must not overlap one that listens.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection : ICollectionFixture<TelemetryClusterFixture>
{
    public const string Name = "Tracing";
}
