using Kv.Server.Configuration;
using Kv.Server.Node;
using Kv.Server.Tests.Node;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Kv.Server.Tests.Telemetry;

/// <summary>Which exporters a node starts with: none by default; Prometheus with MetricsListen; OTLP traces with OtlpEndpoint.</summary>
public sealed class TelemetryConfigurationTests
{
    [Fact]
    public void Defaults_ExportNothing()
    {
        var options = new NodeOptions();
        Assert.Null(options.OtlpEndpoint);
        Assert.Null(options.MetricsListen);
    }

    [Fact(Timeout = 60_000)]
    public Task Node_WithDefaults_HasNoTracerAndNoMetricsProvider() =>
        WithSingleNodeAsync(o => o, node =>
        {
            Assert.Null(node.Services.GetService<TracerProvider>());
            Assert.Null(node.Services.GetService<MeterProvider>());
        });

    [Fact(Timeout = 60_000)]
    public Task Node_WithOtlpEndpoint_HasATracer_AndWithMetricsListen_AMetricsProvider() =>
        // Nothing listens on the OTLP port: exporting fails quietly, which a node must survive.
        WithSingleNodeAsync(o => o with
        {
            OtlpEndpoint = new Uri("http://127.0.0.1:4317"),
            MetricsListen = new Uri($"http://127.0.0.1:{InProcessCluster.FreePorts(1)[0]}"),
        }, node =>
        {
            Assert.NotNull(node.Services.GetService<TracerProvider>());
            Assert.NotNull(node.Services.GetService<MeterProvider>());
        });

    [Fact]
    public void OtlpEndpoint_MustBeADialableUrl()
    {
        var problems = new NodeOptions { OtlpEndpoint = new Uri("http://0.0.0.0:4317") }.Validate();
        Assert.Contains(problems, p => p.StartsWith("OtlpEndpoint:", StringComparison.Ordinal) && p.Contains("--otlp-endpoint", StringComparison.Ordinal));
        Assert.Empty(new NodeOptions { OtlpEndpoint = new Uri("http://otel-collector:4317") }.Validate());
    }

    [Fact]
    public void OtlpEndpoint_IsReadFromItsEnvironmentVariableAndFlag()
    {
        var fromEnvironment = NodeConfiguration.Load([], new Dictionary<string, string> { ["KV_OTLP_ENDPOINT"] = "http://collector:4317" }, null);
        Assert.Equal(new Uri("http://collector:4317"), fromEnvironment.OtlpEndpoint);
        var fromFlag = NodeConfiguration.Load(["--otlp-endpoint", "http://other:4317"], new Dictionary<string, string>(), null);
        Assert.Equal(new Uri("http://other:4317"), fromFlag.OtlpEndpoint);
    }

    private static async Task WithSingleNodeAsync(Func<NodeOptions, NodeOptions> configure, Action<KvNode> check)
    {
        string data = Path.Combine(Path.GetTempPath(), "kv-telemetry-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var node = await KvNode.StartAsync(configure(new NodeOptions
            {
                NodeId = 1,
                Listen = new Uri($"http://127.0.0.1:{InProcessCluster.FreePorts(1)[0]}"),
                DataDirectory = data,
            }), logging: null, cts.Token);
            check(node);
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }
}
