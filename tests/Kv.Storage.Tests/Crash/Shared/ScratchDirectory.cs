namespace Kv.Storage.Tests.Crash;

/// <summary>A fresh directory under the system temp directory, deleted on dispose unless kept.</summary>
public sealed class ScratchDirectory : IDisposable
{
    /// <summary>Creates the directory; <paramref name="label"/> makes it recognisable in listings.</summary>
    public ScratchDirectory(string label)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kv-{label}-{Environment.ProcessId}-{System.IO.Path.GetRandomFileName()}");
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>Leaves the directory in place (to inspect a failure).</summary>
    public bool Keep { get; set; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Keep) return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}
