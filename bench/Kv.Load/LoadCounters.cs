namespace Kv.Load;

/// <summary>Running totals shared by the workers, read once a second for the progress line (and every 200 ms by a timeline).</summary>
internal sealed class LoadCounters
{
    private long _succeeded;
    private long _errors;
    private long _retries;

    public long Completed => Succeeded + Errors;

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Transaction attempts run again after a conflict (transfers only).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    public void Success(int retries)
    {
        if (retries > 0) Interlocked.Add(ref _retries, retries);
        Interlocked.Increment(ref _succeeded);
    }

    public void Failed() => Interlocked.Increment(ref _errors);
}
