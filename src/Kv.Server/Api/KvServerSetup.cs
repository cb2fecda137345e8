using System.IO.Compression;
using Grpc.AspNetCore.Server;
using Grpc.Net.Compression;
using Kv.Server.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Kv.Server.Api;

/// <summary>How a node's gRPC server must be set up for the client API.</summary>
public static class KvServerSetup
{
    /// <summary>
    /// The largest request message the server accepts: one maximal key and value plus
    /// <see cref="KvApiLimits.RequestOverheadBytes"/>. gRPC's default (4 MiB) would refuse a maximal value with
    /// RESOURCE_EXHAUSTED before the service sees it.
    /// </summary>
    public static int RequestBytesMax(NodeOptions nodeOptions, KvApiLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(nodeOptions);
        return checked(nodeOptions.KeyBytesMax + nodeOptions.ValueBytesMax + (limits ?? new KvApiLimits()).RequestOverheadBytes);
    }

    /// <summary>
    /// Applies the client API's needs to the server-wide gRPC options: call as
    /// <c>services.AddGrpc(o =&gt; KvServerSetup.ConfigureGrpc(o, nodeOptions))</c>. It sets
    /// <see cref="GrpcServiceOptions.MaxReceiveMessageSize"/> to <see cref="RequestBytesMax"/>, never lowering a larger
    /// setting. Null counts as not set: it is what the options hold until gRPC's own setup applies its 4 MiB default,
    /// which may run after this callback. The limit is server-wide, so peer streams get the same room.
    /// Send size stays unlimited on the server: responses are bounded by the API's own limits. Every compression
    /// provider is wrapped in <see cref="CorruptCompressionGuard"/>, so that a request that does not decompress is
    /// INTERNAL with a message rather than UNKNOWN.
    /// </summary>
    public static void ConfigureGrpc(GrpcServiceOptions options, NodeOptions nodeOptions, KvApiLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Peer streams share the limit: a Paxos message may carry several maximum-size values (Accepts are cut at
        // ReplicaOptions.MessageValueBytesMax, plus one slot).
        int required = Math.Max(RequestBytesMax(nodeOptions, limits), new Peers.PeerTransportOptions().MessageBytesMax + 64 * 1024);
        if (options.MaxReceiveMessageSize is not { } current || current < required) options.MaxReceiveMessageSize = required;

        // gRPC adds its default providers only to an empty list, and may do so after this callback: then supply
        // them here (the same ones: gzip and deflate at the fastest level), so that they are guarded too.
        var providers = options.CompressionProviders;
        if (providers.Count == 0)
        {
            providers.Add(new GzipCompressionProvider(CompressionLevel.Fastest));
            providers.Add(new DeflateCompressionProvider(CompressionLevel.Fastest));
        }
        for (int i = 0; i < providers.Count; i++)
            if (providers[i] is not CorruptCompressionGuard) providers[i] = new CorruptCompressionGuard(providers[i]);

        // Kv's services turn every exception of their own into a status with a message (KvService.ServeAsync), so
        // only failures inside the gRPC framework reach this: frames it refuses before any Kv code runs (a flag
        // byte other than 0 or 1, a declared length of 2 GiB or more). Their status then says what was wrong
        // instead of a bare "Exception was thrown by handler".
        options.EnableDetailedErrors = true;
    }

    /// <summary>
    /// Adds the HTTP/1.1 endpoint of <see cref="NodeOptions.MetricsListen"/> (if set) to Kestrel, beside the HTTP/2
    /// one of <see cref="NodeOptions.Listen"/>: scrapers speak HTTP/1.1 (docs/configuration.md, "One port").
    /// </summary>
    public static void ListenForMetrics(KestrelServerOptions kestrel, NodeOptions nodeOptions)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(nodeOptions);
        if (nodeOptions.MetricsListen is not { } metrics) return;
        var address = System.Net.IPAddress.TryParse(metrics.Host, out var ip) ? ip : System.Net.IPAddress.Any;
        kestrel.Listen(address, metrics.Port, l => l.Protocols = HttpProtocols.Http1);
    }

    /// <summary>
    /// Serves <c>/metrics</c> (Prometheus text format) and <c>/healthz</c> (200 "ok" while the node serves) when
    /// <see cref="NodeOptions.MetricsListen"/> is set. They are not tied to that endpoint by host: a scrape through a
    /// Service or port mapping carries another port in its Host header. On the gRPC endpoint they answer only HTTP/2
    /// clients, which scrapers and probes are not.
    /// </summary>
    public static void MapMetricsEndpoints(WebApplication app, NodeOptions nodeOptions)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(nodeOptions);
        if (nodeOptions.MetricsListen is null) return;
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok"));
    }

    /// <summary>
    /// Opens a logging scope with <c>node_id</c> around every call the node serves, so that each line its services log
    /// says which node wrote it (several nodes may share a process or a log stream).
    /// </summary>
    public static void UseNodeLogScope(WebApplication app, int nodeId)
    {
        ArgumentNullException.ThrowIfNull(app);
        var logger = app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("Kv.Server");
        var scope = new Dictionary<string, object> { ["node_id"] = nodeId };
        app.Use(async (context, next) =>
        {
            using (logger.BeginScope(scope)) await next(context).ConfigureAwait(false);
        });
    }
}
