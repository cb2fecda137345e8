using Kv.Deploy.Tests.Docker;
using Kv.Deploy.Tests.Tools;

namespace Kv.Deploy.Tests;

/// <summary>The server as the image's build stage publishes it (<see cref="DockerBuildStage"/>), built once per test class.</summary>
public sealed class PublishedServerFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kv-image-" + Guid.NewGuid().ToString("N"));

    /// <summary>/app/Kv.Server.dll of the image, the ENTRYPOINT's program.</summary>
    internal string ServerDll { get; private set; } = "";

    internal string AppDirectory { get; private set; } = "";

    public async Task InitializeAsync()
    {
        // A cold publish of five projects takes one to two minutes on a loaded 2-core machine.
        AppDirectory = await DockerBuildStage.RunAsync(DockerfileFacts.Parse(File.ReadAllText(RepositoryPaths.Dockerfile)), _root, TimeSpan.FromMinutes(10));
        ServerDll = Path.Combine(AppDirectory, "Kv.Server.dll");
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is not worth failing the run for.
        }
        return Task.CompletedTask;
    }
}
