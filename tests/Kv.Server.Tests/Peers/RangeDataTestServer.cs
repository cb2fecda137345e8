using System.Net;
using Kv.Server.Peers;
using Kv.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Tests.Peers;

/// <summary>
/// An in-process Kestrel server on 127.0.0.1 (any free port, HTTP/2 only, plaintext) hosting <see cref="RangeDataService"/>
/// over <paramref name="store"/>, registered the way a node would register it, optionally behind a fault interceptor.
/// </summary>
internal sealed class RangeDataTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private RangeDataTestServer(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    /// <summary>Small chunks so that a few dozen pairs make several chunks.</summary>
    public static RangeDataOptions SmallChunks { get; } = new() { ChunkBytesMin = 64, ChunkBytesDefault = 256, ChunkBytesMax = 64 * 1024 };

    public static async Task<RangeDataTestServer> StartAsync(
        NodeStore store, IRangeDataSource source, StreamFaultInterceptor? faults = null, RangeDataOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddGrpc(o =>
        {
            if (faults is not null) o.Interceptors.Add<StreamFaultInterceptor>();
        });
        if (faults is not null) builder.Services.AddSingleton(faults);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(source);
        builder.Services.AddSingleton(options ?? SmallChunks);
        var app = builder.Build();
        app.MapGrpcService<RangeDataService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new RangeDataTestServer(app, new Uri(address));
    }

    /// <summary>Stops the server as a node does on shutdown (streams see ApplicationStopping first).</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
