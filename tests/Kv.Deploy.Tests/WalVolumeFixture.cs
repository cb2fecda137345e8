using Kv.Deploy.Tests.Docker;
using Kv.Deploy.Tests.Manifests;
using Kv.Deploy.Tests.Tools;

namespace Kv.Deploy.Tests;

/// <summary>deploy/overlays/wal-volume rendered and validated once, for every test in a class.</summary>
public sealed class WalVolumeFixture : IAsyncLifetime
{
    internal string Yaml { get; private set; } = "";

    internal SchemaReport Report { get; private set; } = new(0, []);

    internal DockerfileFacts Image { get; } = DockerfileFacts.Parse(File.ReadAllText(RepositoryPaths.Dockerfile));

    public async Task InitializeAsync()
    {
        Yaml = await ManifestTools.RenderAsync(RepositoryPaths.WalVolumeOverlay);
        Report = await ManifestTools.ValidateAsync(Yaml);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
