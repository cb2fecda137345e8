using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

// gRPC finds this attribute before the generated base's, so requests are parsed by MalformedRequestBinder's guard.
[BindServiceMethod(typeof(KvService), nameof(BindService))]
[GrpcMessageLimitOnly]
public sealed partial class KvService
{
    /// <summary>
    /// Binds the service's methods as the generated code does, but with a request that is not valid protobuf
    /// answered INTERNAL with a message rather than UNKNOWN (<see cref="MalformedRequestBinder"/>). Called by gRPC.
    /// </summary>
    public static void BindService(ServiceBinderBase serviceBinder, Wire.Kv.KvBase? service) =>
        Wire.Kv.BindService(new MalformedRequestBinder(serviceBinder), service);
}
