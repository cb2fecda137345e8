using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Kv.Client.Tests;

/// <summary>The client's log (retries, leaders learned) into a test's output, with a timestamp; kept for a failure message.</summary>
internal sealed class TestOutputLogger(ITestOutputHelper output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} client: {formatter(state, exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished.
        }
    }
}
