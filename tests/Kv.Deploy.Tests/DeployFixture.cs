using Kv.Deploy.Tests.Docker;
using Kv.Deploy.Tests.Manifests;
using Kv.Deploy.Tests.Tools;

namespace Kv.Deploy.Tests;

/// <summary>deploy/k8s rendered and validated once, and the Dockerfile read, for every test in a class.</summary>
public sealed class DeployFixture : IAsyncLifetime
{
    internal string Yaml { get; private set; } = "";

    internal SchemaReport Report { get; private set; } = new(0, []);

    internal DockerfileFacts Image { get; } = DockerfileFacts.Parse(File.ReadAllText(RepositoryPaths.Dockerfile));

    public async Task InitializeAsync()
    {
        Yaml = await ManifestTools.RenderAsync(RepositoryPaths.K8s);
        Report = await ManifestTools.ValidateAsync(Yaml);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
