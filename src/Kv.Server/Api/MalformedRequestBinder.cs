using Google.Protobuf;
using Grpc.Core;

namespace Kv.Server.Api;

/// <summary>
/// Binds a generated gRPC service with request marshallers that turn a request that is not valid protobuf into
/// INTERNAL with a message saying so, as the gRPC status-code spec asks for "error parsing request proto".
/// <para>
/// Why: ASP.NET Core gRPC parses the request before any service code or interceptor runs, and reports a parse
/// failure as UNKNOWN "Exception was thrown by handler." — a status that reads as a server bug. A service opts in
/// with <c>[BindServiceMethod(typeof(TheService), nameof(BindService))]</c> and a static <c>BindService</c> that
/// hands the generated binder this one; gRPC prefers the attribute on the service class over the generated base's.
/// </para>
/// </summary>
internal sealed class MalformedRequestBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guarded(method), handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guarded(method), handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guarded(method), handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guarded(method), handler);

    private static Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var parse = method.RequestMarshaller.ContextualDeserializer;
        var marshaller = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, context =>
        {
            try
            {
                return parse(context);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw KvErrors.Plain(StatusCode.Internal, $"The request to {method.FullName} is not a valid {typeof(TRequest).Name}: {e.Message}");
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }
}
