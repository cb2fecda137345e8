using Grpc.Net.Client;
using Kv.Proto.V1;

namespace Kv.IdleRanges;

/// <summary>One gRPC channel per node, and the Kv and Admin clients over them; node ids are 1-based.</summary>
internal sealed class ClusterClients : IDisposable
{
    private readonly GrpcChannel[] _channels;

    public ClusterClients(IReadOnlyList<Uri> endpoints)
    {
        if (endpoints.Count == 0) throw new ArgumentException("at least one endpoint is needed", nameof(endpoints));
        Endpoints = endpoints;
        _channels = endpoints.Select(e => GrpcChannel.ForAddress(e)).ToArray();
    }

    public IReadOnlyList<Uri> Endpoints { get; }

    /// <summary>The node ids, 1..N in endpoint order.</summary>
    public IEnumerable<int> NodeIds => Enumerable.Range(1, _channels.Length);

    public Admin.AdminClient Admin(int nodeId) => new(_channels[nodeId - 1]);

    public Kv.Proto.V1.Kv.KvClient Kv(int nodeId) => new(_channels[nodeId - 1]);

    public void Dispose()
    {
        foreach (var c in _channels) c.Dispose();
    }
}
