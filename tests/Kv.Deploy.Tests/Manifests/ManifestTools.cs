using System.Text.Json;
using System.Text.Json.Nodes;
using Kv.Deploy.Tests.Tools;

namespace Kv.Deploy.Tests.Manifests;

/// <summary>One rendered Kubernetes object and what the schema validation said about it.</summary>
internal sealed record ManifestObject(string ApiVersion, string Kind, string Name, IReadOnlyList<string> SchemaErrors, JsonObject Object);

/// <summary>The validator's verdict on a set of manifests: its exit code and each object.</summary>
internal sealed record SchemaReport(int ExitCode, IReadOnlyList<ManifestObject> Objects)
{
    public bool AllValid => ExitCode == 0 && Objects.All(o => o.SchemaErrors.Count == 0);

    public IEnumerable<string> Errors => Objects.SelectMany(o => o.SchemaErrors.Select(e => $"{o.Kind}/{o.Name}: {e}"));
}

/// <summary>
/// The manifests as Kubernetes would see them: rendered by <c>kubectl kustomize</c> (offline), validated against the
/// Kubernetes schema by deploy/validate/validate.mjs (kubernetes-models), and a pod's environment as the kubelet
/// would set it (deploy/validate/pod-env.mjs).
/// </summary>
internal static class ManifestTools
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The YAML that <c>kubectl apply -k</c> would send.</summary>
    public static async Task<string> RenderAsync(string kustomizationDirectory)
    {
        ToolResult result = await ExternalTool.RunAsync("kubectl", ["kustomize", kustomizationDirectory], ToolTimeout);
        Assert.True(result.ExitCode == 0, $"kubectl kustomize {kustomizationDirectory} failed: {result}");
        return result.StandardOutput;
    }

    /// <summary>Validates every document of <paramref name="yaml"/> (JSON documents are YAML too) against the schema.</summary>
    public static async Task<SchemaReport> ValidateAsync(string yaml)
    {
        RepositoryPaths.NodeModules();
        ToolResult result = await ExternalTool.RunAsync("node", [Path.Combine(RepositoryPaths.Validate, "validate.mjs")], ToolTimeout, yaml,
            RepositoryPaths.Validate);
        Assert.True(result.ExitCode is 0 or 1, $"validate.mjs could not read the manifests: {result}");
        var objects = new List<ManifestObject>();
        foreach (JsonNode? node in JsonNode.Parse(result.StandardOutput)!["objects"]!.AsArray())
        {
            objects.Add(new ManifestObject(
                node!["apiVersion"]?.GetValue<string>() ?? "", node["kind"]?.GetValue<string>() ?? "", node["name"]!.GetValue<string>(),
                node["errors"]!.AsArray().Select(e => e!.GetValue<string>()).ToList(),
                node["object"]!.AsObject()));
        }
        return new SchemaReport(result.ExitCode, objects);
    }

    /// <summary>The objects as a multi-document stream again (JSON per document), e.g. after a test broke one.</summary>
    public static string ToYamlStream(IEnumerable<JsonObject> objects) =>
        string.Join("\n---\n", objects.Select(o => o.ToJsonString()));

    /// <summary>A deep copy of each object, to break without touching the shared originals.</summary>
    public static List<JsonObject> Copy(IEnumerable<ManifestObject> objects) =>
        objects.Select(o => JsonNode.Parse(o.Object.ToJsonString())!.AsObject()).ToList();

    /// <summary>Pod <paramref name="podName"/>'s container environment from the StatefulSet in <paramref name="yaml"/>.</summary>
    public static async Task<Dictionary<string, string>> PodEnvironmentAsync(string yaml, string podName, string podNamespace)
    {
        RepositoryPaths.NodeModules();
        ToolResult result = await ExternalTool.RunAsync("node", [Path.Combine(RepositoryPaths.Validate, "pod-env.mjs"), podName, podNamespace],
            ToolTimeout, yaml, RepositoryPaths.Validate);
        Assert.True(result.ExitCode == 0, $"pod-env.mjs failed: {result}");
        return JsonSerializer.Deserialize<Dictionary<string, string>>(result.StandardOutput)!;
    }
}
