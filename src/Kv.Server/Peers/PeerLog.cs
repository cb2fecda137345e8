using Microsoft.Extensions.Logging;

namespace Kv.Server.Peers;

/// <summary>The peer transport's log messages, generated so that disabled levels cost nothing on hot paths.</summary>
internal static partial class PeerLog
{
    [LoggerMessage(1, LogLevel.Information, "Peer stream to node {NodeId} at {Endpoint} opened")]
    public static partial void StreamOpened(ILogger logger, ulong nodeId, Uri endpoint);

    [LoggerMessage(2, LogLevel.Warning, "Peer stream to node {NodeId} failed; retrying in {DelayMs} ms")]
    public static partial void StreamFailed(ILogger logger, ulong nodeId, long delayMs, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Peer stream to node {NodeId} failed; retrying in {DelayMs} ms: {Reason}")]
    public static partial void StreamFailedBecause(ILogger logger, ulong nodeId, long delayMs, string reason);

    [LoggerMessage(12, LogLevel.Information, "Node {NodeId} is stopping; its peer stream ended, reconnecting in {DelayMs} ms and then as it comes back")]
    public static partial void PeerStopping(ILogger logger, ulong nodeId, long delayMs);

    [LoggerMessage(13, LogLevel.Information, "Node {NodeId} is not reachable yet (peers of a starting cluster come up one by one; a warning follows if it still is not in {GraceSeconds:0.#} s): {Reason}")]
    public static partial void PeerNotUpYet(ILogger logger, ulong nodeId, double graceSeconds, string reason);

    [LoggerMessage(3, LogLevel.Debug, "Peer stream to node {NodeId} still failing (attempt {Attempt}); retrying in {DelayMs} ms: {Reason}")]
    public static partial void StreamStillFailing(ILogger logger, ulong nodeId, long attempt, long delayMs, string reason);

    [LoggerMessage(4, LogLevel.Debug, "No endpoint known for node {NodeId}; retrying in {DelayMs} ms")]
    public static partial void NoEndpoint(ILogger logger, ulong nodeId, long delayMs);

    [LoggerMessage(5, LogLevel.Warning, "Resolving the endpoint of node {NodeId} failed")]
    public static partial void ResolveFailed(ILogger logger, ulong nodeId, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Dropped a {Type} of {SizeBytes} bytes for node {NodeId}: larger than MessageBytesMax")]
    public static partial void MessageTooLarge(ILogger logger, ulong nodeId, string type, int sizeBytes);

    [LoggerMessage(7, LogLevel.Error, "Dropped a {Type} for node {NodeId}: it has no wire form")]
    public static partial void EncodeFailed(ILogger logger, ulong nodeId, string type, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Skipped a malformed message from node {NodeId}")]
    public static partial void DecodeFailed(ILogger logger, ulong nodeId, Exception exception);

    [LoggerMessage(9, LogLevel.Error, "The message sink failed on a message of group {GroupId} from node {NodeId}")]
    public static partial void SinkFailed(ILogger logger, ulong nodeId, ulong groupId, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "Refused a peer stream from node {FromNode} addressed to node {ToNode}; this is node {SelfNode}")]
    public static partial void Misrouted(ILogger logger, ulong fromNode, ulong toNode, ulong selfNode);
}
