namespace Kv.Server.Configuration;

/// <summary>A cluster member: its node id and the URL its gRPC port is reached at.</summary>
public sealed record PeerEndpoint(int NodeId, Uri Url)
{
    /// <inheritdoc />
    public override string ToString() => $"{NodeId}={Url.OriginalString}";
}
