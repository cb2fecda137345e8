namespace Kv.Load;

/// <summary>Running totals shared by the workers, read once a second for the progress line.</summary>
internal sealed class LoadCounters
{
    private long _completed;
    private long _errors;

    public long Completed => Interlocked.Read(ref _completed);

    public long Errors => Interlocked.Read(ref _errors);

    public void Succeeded() => Interlocked.Increment(ref _completed);

    public void Failed()
    {
        Interlocked.Increment(ref _completed);
        Interlocked.Increment(ref _errors);
    }
}
