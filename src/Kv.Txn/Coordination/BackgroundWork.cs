using Microsoft.Extensions.Logging;

namespace Kv.Txn.Coordination;

/// <summary>
/// Work a coordinator goes on with after answering the client (publishing): tracked so that a stopping node can
/// cancel it and tests can wait for it. Nothing depends on it finishing: recovery finishes what it leaves.
/// </summary>
internal sealed class BackgroundWork(ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private readonly HashSet<Task> _running = [];

    public CancellationToken Stopping => _stopping.Token;

    public void Start(string what, Func<CancellationToken, Task> work)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await work(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Transaction work stopped ({What}); recovery will finish it", what);
            }
        });
        lock (_gate) _running.Add(task);
        _ = task.ContinueWith(t => { lock (_gate) _running.Remove(t); }, TaskScheduler.Default);
    }

    /// <summary>Tracks work started elsewhere (a recovery), so that disposal waits for it too.</summary>
    public Task<T> Track<T>(Task<T> task)
    {
        lock (_gate) _running.Add(task);
        _ = task.ContinueWith(t => { lock (_gate) _running.Remove(t); }, TaskScheduler.Default);
        return task;
    }

    /// <summary>Waits until nothing runs.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task[] running;
            lock (_gate) running = [.. _running];
            if (running.Length == 0) return;
            await Task.WhenAll(running.Select(Settled)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // Waiting for work to end, not for it to succeed: a tracked recovery may fail, and its caller has seen that.
    private static Task Settled(Task task) => task.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_gate) running = [.. _running];
        try
        {
            await Task.WhenAll(running.Select(Settled)).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
        _stopping.Dispose();
    }
}
