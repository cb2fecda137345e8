using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;

namespace Kv.Server.Tests.Api;

/// <summary>
/// gRPC spoken by hand over HTTP/2 (h2c, prior knowledge), so that tests can send what no gRPC client sends:
/// frames whose length prefix lies, garbage payloads, a compressed flag without an encoding, a wrong content type.
/// </summary>
internal static class RawGrpc
{
    /// <summary>What came back: the HTTP status, the gRPC status (null if none was sent) and its parts.</summary>
    /// <param name="HttpStatus">The response's HTTP status.</param>
    /// <param name="Code">grpc-status from the headers (a trailers-only response) or the trailers; null when absent.</param>
    /// <param name="Message">grpc-message, percent-decoded; empty when absent.</param>
    /// <param name="Details">grpc-status-details-bin, decoded; null when absent.</param>
    /// <param name="Body">The response body (length-prefixed messages).</param>
    public sealed record Reply(HttpStatusCode HttpStatus, StatusCode? Code, string Message, Google.Rpc.Status? Details, byte[] Body);

    /// <summary>One gRPC frame: the compressed flag, a big-endian length (the real one unless given) and the payload.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload, byte flag = 0, uint? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>A correct frame carrying <paramref name="message"/>.</summary>
    public static byte[] Frame(IMessage message) => Frame(message.ToByteArray());

    /// <summary>
    /// POSTs <paramref name="body"/> to <paramref name="path"/> (e.g. <c>/kv.v1.Kv/Put</c>) as one HTTP/2 request and
    /// reads the whole response, trailers included. Bounded by <paramref name="timeout"/> (10 s by default).
    /// </summary>
    public static async Task<Reply> CallAsync(
        Uri endpoint, string path, byte[] body, string contentType = "application/grpc",
        IReadOnlyDictionary<string, string>? headers = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        using var handler = new SocketsHttpHandler();
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new UnsizedContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(name, value);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        byte[] responseBody = await response.Content.ReadAsByteArrayAsync(cts.Token);
        // A trailers-only response carries the status in its headers; otherwise it is in the trailers.
        string? code = Header(response.Headers, "grpc-status") ?? Header(response.TrailingHeaders, "grpc-status");
        string? message = Header(response.Headers, "grpc-message") ?? Header(response.TrailingHeaders, "grpc-message");
        string? details = Header(response.Headers, "grpc-status-details-bin") ?? Header(response.TrailingHeaders, "grpc-status-details-bin");
        return new Reply(
            response.StatusCode,
            code is null ? null : (StatusCode)int.Parse(code, System.Globalization.CultureInfo.InvariantCulture),
            message is null ? "" : Uri.UnescapeDataString(message),
            details is null ? null : Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(Pad(details))),
            responseBody);
    }

    /// <summary>The messages of a response body, parsed with <paramref name="parser"/>.</summary>
    public static IReadOnlyList<T> Messages<T>(byte[] body, MessageParser<T> parser) where T : IMessage<T>
    {
        var messages = new List<T>();
        for (int at = 0; at + 5 <= body.Length;)
        {
            int length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(at + 1)));
            messages.Add(parser.ParseFrom(body.AsSpan(at + 5, length)));
            at += 5 + length;
        }
        return messages;
    }

    /// <summary>
    /// A body sent without Content-Length, as gRPC clients send theirs: so the server meets the frames themselves
    /// (a length prefix over the receive limit, a body that stops short) rather than a declared size.
    /// </summary>
    private sealed class UnsizedContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    // gRPC sends binary headers as base64 without padding.
    private static string Pad(string base64) => base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
}
