using Microsoft.Extensions.Logging;

namespace Kv.Server.Peers;

/// <summary>The log messages of serving range data to peers (<see cref="RangeDataService"/>).</summary>
internal static partial class RangeDataLog
{
    [LoggerMessage(1, LogLevel.Information, "Serving range {RangeId} {Span} to {Peer} in chunks of {ChunkBytes} bytes")]
    public static partial void Serving(ILogger logger, ulong rangeId, string span, string peer, int chunkBytes);

    [LoggerMessage(2, LogLevel.Information, "Served range {RangeId} {Span} to {Peer}: {PairCount} pairs, {DataBytes} bytes in {ChunkCount} chunks, {ElapsedMs} ms")]
    public static partial void Served(ILogger logger, ulong rangeId, string span, string peer, long pairCount, long dataBytes, int chunkCount, long elapsedMs);

    [LoggerMessage(3, LogLevel.Warning, "Refused range {RangeId} {Span} to {Peer} ({Availability}): {Reason}")]
    public static partial void Refused(ILogger logger, ulong rangeId, string span, string peer, RangeDataAvailability availability, string reason);

    [LoggerMessage(4, LogLevel.Information, "Serving range {RangeId} {Span} to {Peer} stopped after {ChunkCount} chunks: {Why}")]
    public static partial void Stopped(ILogger logger, ulong rangeId, string span, string peer, int chunkCount, string why);

    [LoggerMessage(5, LogLevel.Error, "Serving range {RangeId} {Span} to {Peer} failed: its stored data is corrupt")]
    public static partial void Corrupt(ILogger logger, ulong rangeId, string span, string peer, Exception exception);
}
