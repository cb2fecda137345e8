using Microsoft.Extensions.Logging;

namespace Kv.Server.Api;

/// <summary>The client API's log messages.</summary>
internal static partial class KvApiLog
{
    [LoggerMessage(1, LogLevel.Error, "Kv.{Method} failed unexpectedly; answered INTERNAL")]
    public static partial void Unexpected(ILogger logger, string method, Exception exception);

    [LoggerMessage(2, LogLevel.Critical, "Kv.{Method} found corrupt data; answered DATA_LOSS")]
    public static partial void Corruption(ILogger logger, string method, Exception exception);

    [LoggerMessage(3, LogLevel.Error, "Range {RangeId} could not apply a command the API built: {Error}")]
    public static partial void CommandRejected(ILogger logger, ulong rangeId, string error);

    [LoggerMessage(4, LogLevel.Debug, "Kv.{Method}: the range refused the request as busy; answered UNAVAILABLE")]
    public static partial void Busy(ILogger logger, string method);
}
