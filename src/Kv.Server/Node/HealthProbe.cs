using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Kv.Server.Configuration;

namespace Kv.Server.Node;

/// <summary>
/// The <c>health</c> command: asks the node configured by the same settings (its <see cref="NodeOptions.Listen"/>
/// port, on loopback) for its gRPC health, so that a container image needs no separate probe binary for its
/// HEALTHCHECK. Kubernetes does not use it: its probes speak gRPC health natively.
/// </summary>
public static class HealthProbe
{
    /// <summary>The URL the probe dials: Listen, with a wildcard or a host name replaced by loopback (where the node also listens).</summary>
    public static Uri ProbeUrl(NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool isAddress = System.Net.IPAddress.TryParse(options.Listen.Host, out var address);
        bool loopbackReaches = !isAddress || address!.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any);
        return loopbackReaches ? new UriBuilder(options.Listen) { Host = "127.0.0.1" }.Uri : options.Listen;
    }

    /// <summary>Returns 0 if the node answers SERVING within <paramref name="timeout"/>, else 1; prints what it found.</summary>
    public static async Task<int> RunAsync(NodeOptions options, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        Uri url = ProbeUrl(options);
        try
        {
            using var channel = GrpcChannel.ForAddress(url);
            var reply = await new Health.HealthClient(channel)
                .CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.Add(timeout), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            await output.WriteLineAsync($"{url}: {reply.Status}").ConfigureAwait(false);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        }
        catch (RpcException e)
        {
            await output.WriteLineAsync($"{url}: {e.StatusCode} ({e.Status.Detail})").ConfigureAwait(false);
            return 1;
        }
    }
}
