using Grpc.Core;
using Kv.Admin.App;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Cluster;

/// <summary>
/// Admin calls over the command's endpoints: to any node (the first that answers; the server forwards splits,
/// transfers and joins to the right node) or to one node.
/// </summary>
public sealed class AdminCalls(Connections connections, CommandSettings settings)
{
    /// <summary>How long one node may take to answer a status question before it counts as down.</summary>
    public TimeSpan PerNodeTimeout => settings.Timeout < TimeSpan.FromSeconds(3) ? settings.Timeout : TimeSpan.FromSeconds(3);

    /// <summary>
    /// Runs <paramref name="call"/> at each endpoint in turn until one answers. Only "could not reach" failures move on
    /// to the next endpoint; an answer that refuses (bad argument, unsupported) ends the call at once.
    /// </summary>
    public Task<T> AnyAsync<T>(Func<Wire.Admin.AdminClient, CallOptions, Task<T>> call, TimeSpan? timeout, CancellationToken cancellationToken) =>
        AnyAsync(channel => new Wire.Admin.AdminClient(channel), call, timeout, cancellationToken);

    /// <summary>As <see cref="AnyAsync{T}(Func{Wire.Admin.AdminClient, CallOptions, Task{T}}, TimeSpan?, CancellationToken)"/>, with another service's client (snapshots).</summary>
    public async Task<T> AnyAsync<TClient, T>(Func<ChannelBase, TClient> client, Func<TClient, CallOptions, Task<T>> call, TimeSpan? timeout,
        CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var endpoint in settings.Endpoints)
        {
            try
            {
                return await call(client(connections.Channel(endpoint)), Options(timeout ?? PerNodeTimeout, cancellationToken)).ConfigureAwait(false);
            }
            catch (RpcException e) when (IsUnreachable(e) && !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{endpoint.ToString().TrimEnd('/')}: {Describe(e)}");
            }
        }
        throw new ClusterUnreachableException(settings.Endpoints, failures);
    }

    /// <summary>Runs <paramref name="call"/> at one node with a deadline.</summary>
    public Task<T> OneAsync<T>(Uri endpoint, Func<Wire.Admin.AdminClient, CallOptions, Task<T>> call, TimeSpan timeout, CancellationToken cancellationToken) =>
        call(new Wire.Admin.AdminClient(connections.Channel(endpoint)), Options(timeout, cancellationToken));

    private static CallOptions Options(TimeSpan timeout, CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);

    /// <summary>Whether the failure says nothing about the request, only that the node did not answer.</summary>
    public static bool IsUnreachable(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled;

    /// <summary>A short reason for a table cell: "unavailable", "timed out", or the status and its detail.</summary>
    public static string Describe(RpcException e) => e.StatusCode switch
    {
        StatusCode.Unavailable => "unavailable (connection refused or node stopping)",
        StatusCode.DeadlineExceeded => "timed out",
        _ => $"{e.StatusCode}: {e.Status.Detail}",
    };
}

/// <summary>No endpoint answered: the message lists what each said and what to check.</summary>
public sealed class ClusterUnreachableException(IReadOnlyList<Uri> endpoints, IReadOnlyList<string> failures)
    : Exception($"could not reach any node ({string.Join("; ", failures)}). Is the cluster running? Check --endpoints or ${GlobalOptions.EndpointsVariable} "
        + $"(tried {string.Join(",", endpoints.Select(e => e.ToString().TrimEnd('/')))}).");
