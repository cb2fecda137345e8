using Kv.Deploy.Tests.Docker;
using Kv.Server.Configuration;

namespace Kv.Deploy.Tests.Manifests;

/// <summary>A pod's environment as its container sees it, and the node settings the server reads from it.</summary>
internal static class PodSettings
{
    /// <summary>The image's ENV overridden by the StatefulSet's env for pod <paramref name="podName"/>, as the kubelet sets them.</summary>
    public static async Task<Dictionary<string, string>> EnvironmentAsync(string yaml, DockerfileFacts image, string podName, string podNamespace = "default")
    {
        var environment = new Dictionary<string, string>(image.Environment, StringComparer.Ordinal);
        foreach ((string name, string value) in await ManifestTools.PodEnvironmentAsync(yaml, podName, podNamespace)) environment[name] = value;
        return environment;
    }

    /// <summary>What the server makes of that environment: the real reader and validation (no appsettings.json, no flags).</summary>
    public static NodeOptions Read(IReadOnlyDictionary<string, string> environment) => NodeConfiguration.Load([], environment, appSettingsPath: null);
}
