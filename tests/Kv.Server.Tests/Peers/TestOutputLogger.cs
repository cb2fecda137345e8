using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Kv.Server.Tests.Peers;

/// <summary>Writes log lines to the test's output, so that a failing transport test shows what the loops saw.</summary>
internal sealed class TestOutputLogger(ITestOutputHelper output, LogLevel minimum = LogLevel.Debug) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {formatter(state, exception)}{(exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message)}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; a loop still stopping has nobody to tell.
        }
    }
}

/// <summary>A provider of <see cref="TestOutputLogger"/>s, for a whole node's logging.</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output, LogLevel minimum = LogLevel.Information) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("Kv.", StringComparison.Ordinal) ? new TestOutputLogger(output, minimum) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }
}
