namespace Kv.Storage.Tests.Crash;

/// <summary>
/// Finds the built crash writer: <c>tests/Kv.Storage.CrashWriter/bin/&lt;Configuration&gt;/net10.0/Kv.Storage.CrashWriter.dll</c>
/// under the repository root (the directory holding <c>kv.sln</c> above this test assembly), preferring the
/// configuration this test assembly was built in.
/// </summary>
internal static class CrashWriterLocator
{
    private const string RelativeDirectory = "tests/Kv.Storage.CrashWriter/bin";
    private const string FileName = "Kv.Storage.CrashWriter.dll";

    public static string Find()
    {
        string baseDirectory = AppContext.BaseDirectory;
        var root = new DirectoryInfo(baseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "kv.sln"))) root = root.Parent;
        if (root is null) throw new FileNotFoundException($"No kv.sln above {baseDirectory}.");

        // The test assembly lives in bin/<Configuration>/net10.0/: use the same configuration if it is built.
        string configuration = new DirectoryInfo(baseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Debug";
        string preferred = Path.Combine(root.FullName, RelativeDirectory, configuration, "net10.0", FileName);
        if (File.Exists(preferred)) return preferred;
        var any = Directory.Exists(Path.Combine(root.FullName, RelativeDirectory))
            ? Directory.GetFiles(Path.Combine(root.FullName, RelativeDirectory), FileName, SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        return any ?? throw new FileNotFoundException(
            $"The crash writer is not built: expected {preferred}. Build tests/Kv.Storage.CrashWriter "
            + "(or reference it from the test project with ReferenceOutputAssembly=\"false\").");
    }
}
