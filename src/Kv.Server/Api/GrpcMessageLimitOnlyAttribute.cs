using Microsoft.AspNetCore.Http.Metadata;

namespace Kv.Server.Api;

/// <summary>
/// Lifts Kestrel's request body limit (30,000,000 bytes by default) from a gRPC service's endpoints, leaving gRPC's
/// receive limit (<see cref="KvServerSetup.ConfigureGrpc"/>) as the only one.
/// <para>
/// Why: the receive limit is above Kestrel's default (peer streams need it), so a unary request between the two
/// would be cut by Kestrel mid-body and answered UNKNOWN "Exception was thrown by handler." instead of reaching the
/// service (which names the field that is too large). The body stays bounded: a unary call's body is one message,
/// which gRPC refuses from its length prefix when it is over the receive limit, and gRPC refuses any data after it.
/// gRPC already lifts Kestrel's limit on streaming calls for the same reason.
/// </para>
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class GrpcMessageLimitOnlyAttribute : Attribute, IRequestSizeLimitMetadata
{
    /// <inheritdoc />
    public long? MaxRequestBodySize => null;
}
