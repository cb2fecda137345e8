using Kv.Deploy.Tests.Docker;
using Kv.Deploy.Tests.Manifests;
using Kv.Deploy.Tests.Tools;

namespace Kv.Deploy.Tests;

/// <summary>A kustomization rendered and validated once, and the Dockerfile read, for every test in a class.</summary>
public abstract class ManifestFixture(string kustomizationDirectory) : IAsyncLifetime
{
    internal string Yaml { get; private set; } = "";

    internal SchemaReport Report { get; private set; } = new(0, []);

    internal DockerfileFacts Image { get; } = DockerfileFacts.Parse(File.ReadAllText(RepositoryPaths.Dockerfile));

    public async Task InitializeAsync()
    {
        Yaml = await ManifestTools.RenderAsync(kustomizationDirectory);
        Report = await ManifestTools.ValidateAsync(Yaml);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>deploy/k8s.</summary>
public sealed class DeployFixture() : ManifestFixture(RepositoryPaths.K8s);

/// <summary>deploy/overlays/wal-volume.</summary>
public sealed class WalVolumeFixture() : ManifestFixture(RepositoryPaths.WalVolumeOverlay);
