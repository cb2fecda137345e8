using Kv.Deploy.Tests.Docker;
using Kv.Deploy.Tests.Tools;
using Kv.Server.Configuration;

namespace Kv.Deploy.Tests;

/// <summary>
/// The Dockerfile, checked without a Docker engine: it lints clean (dockerfilelint, which does catch a broken one),
/// builds in two stages on glibc images, runs as a non-root user, and its settings are the server's ports and the
/// volume it declares. Its build stage is run for real by <see cref="LoopbackSmokeTests"/>.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly TimeSpan LintTimeout = TimeSpan.FromMinutes(2);
    private readonly DockerfileFacts _image = DockerfileFacts.Parse(File.ReadAllText(RepositoryPaths.Dockerfile));

    [Fact]
    public async Task TheDockerfile_LintsClean()
    {
        ToolResult lint = await LintAsync(RepositoryPaths.Dockerfile);

        Assert.True(lint.ExitCode == 0, $"dockerfilelint found issues (exit code = their number): {lint}");
    }

    [Fact]
    public async Task TheLinter_CatchesABrokenDockerfile()
    {
        string broken = Path.Combine(Path.GetTempPath(), $"kv-broken-{Guid.NewGuid():N}.Dockerfile");
        await File.WriteAllTextAsync(broken, "FROM ubuntu\nRUN apt-get install curl\nEXPOSE 70000\n");
        try
        {
            ToolResult lint = await LintAsync(broken);

            Assert.True(lint.ExitCode > 0, lint.ToString());
            Assert.Contains("Invalid Port Exposed", lint.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void TheImage_IsBuiltWithTheSdkAndRunsOnTheAspNetRuntimeOverGlibc()
    {
        Assert.Equal(2, _image.Stages.Count);
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", _image.Stages[0].BaseImage);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", _image.Final.BaseImage, StringComparison.Ordinal);
        // RocksDB's native library is built against glibc.
        Assert.DoesNotContain("alpine", _image.Final.BaseImage, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(_image.Stages[0].All("RUN"), r => r.Arguments.Contains("dotnet publish src/Kv.Server/Kv.Server.csproj -c Release -r linux-x64 --no-self-contained", StringComparison.Ordinal));
        Assert.Contains(_image.Final.All("COPY"), c => c.Arguments.StartsWith($"--from={_image.Stages[0].Name} ", StringComparison.Ordinal));
    }

    [Fact]
    public void TheImage_RunsTheServerAsANonRootUserWithAHealthCheck()
    {
        Assert.True(int.TryParse(_image.User, out int uid) && uid > 0, $"USER {_image.User} should be a numeric non-root id (Kubernetes' runAsNonRoot checks ids)");
        Assert.Equal("[\"dotnet\", \"/app/Kv.Server.dll\"]", Assert.Single(_image.Final.All("ENTRYPOINT")).Arguments);
        Assert.EndsWith("CMD [\"dotnet\", \"/app/Kv.Server.dll\", \"health\"]", Assert.Single(_image.Final.All("HEALTHCHECK")).Arguments, StringComparison.Ordinal);
    }

    [Fact]
    public void TheImagesSettings_ListenOnTheServersDefaultPortsAndKeepDataOnTheVolume()
    {
        NodeOptions options = NodeConfiguration.Load([], _image.Environment, appSettingsPath: null);

        Assert.Equal(new NodeOptions().Listen.Port, options.Listen.Port);
        Assert.Equal("0.0.0.0", options.Listen.Host);
        Assert.NotNull(options.MetricsListen);
        Assert.Equal(new HashSet<int> { options.Listen.Port, options.MetricsListen.Port }, _image.ExposedPorts);
        Assert.Equal(new HashSet<string> { options.DataDirectory }, _image.Volumes);
    }

    [Fact]
    public void TheBuildContext_LeavesOutWhatADevelopersMachineBuiltButKeepsWhatTheBuildCopies()
    {
        var ignored = File.ReadAllLines(RepositoryPaths.DockerIgnore).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet();

        Assert.Superset(new HashSet<string> { ".git", "**/bin", "**/obj", "**/data", "**/node_modules" }, ignored);
        foreach (string source in _image.Stages[0].All("COPY").SelectMany(c => c.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]))
        {
            Assert.DoesNotContain(source.TrimEnd('/'), ignored);
            Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, source)) || Directory.Exists(Path.Combine(RepositoryPaths.Root, source)),
                $"the Dockerfile copies {source}, which the repository does not have");
        }
    }

    private static Task<ToolResult> LintAsync(string dockerfile) =>
        ExternalTool.RunAsync("node", [Path.Combine(RepositoryPaths.NodeModules(), "dockerfilelint", "bin", "dockerfilelint"), dockerfile], LintTimeout);
}
