namespace Kv.Deploy.Tests.Tools;

/// <summary>Where the files under test live: found from the test's output directory upwards (the folder with kv.sln).</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string K8s => Path.Combine(Root, "deploy", "k8s");

    public static string WalVolumeOverlay => Path.Combine(Root, "deploy", "overlays", "wal-volume");

    public static string Validate => Path.Combine(Root, "deploy", "validate");

    public static string Dockerfile => Path.Combine(Root, "Dockerfile");

    public static string DockerIgnore => Path.Combine(Root, ".dockerignore");

    /// <summary>deploy/validate's node_modules, or a failure saying how to install them.</summary>
    public static string NodeModules()
    {
        string modules = Path.Combine(Validate, "node_modules");
        Assert.True(Directory.Exists(Path.Combine(modules, "kubernetes-models")),
            $"deploy/validate has no node_modules: run `npm ci` in {Validate} (needs Node.js 20+; .ci/run does it).");
        return modules;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kv.sln"))) return dir.FullName;
        throw new InvalidOperationException("kv.sln not found above " + AppContext.BaseDirectory);
    }
}
