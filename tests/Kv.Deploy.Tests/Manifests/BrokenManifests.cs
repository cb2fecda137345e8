using System.Text.Json.Nodes;
using Kv.Deploy.Tests.Docker;

namespace Kv.Deploy.Tests.Manifests;

/// <summary>
/// For the tests that break an invariant on purpose: the objects to change (StatefulSet, its container, an env entry,
/// a mount) and the check that the change is reported.
/// </summary>
internal static class BrokenManifests
{
    /// <summary>Breaks a copy of <paramref name="objects"/> and asserts that some problem contains <paramref name="expected"/>.</summary>
    public static void AssertReported(IEnumerable<ManifestObject> objects, DockerfileFacts image, Action<List<JsonObject>> breakIt, string expected)
    {
        var copy = ManifestTools.Copy(objects);
        breakIt(copy);

        var problems = DeploymentInvariants.Check(copy, image);

        Assert.True(problems.Any(p => p.Contains(expected, StringComparison.Ordinal)),
            $"expected a problem containing '{expected}', got:\n{string.Join('\n', problems)}");
    }

    public static JsonObject Set(List<JsonObject> objects) => objects.Single(o => o["kind"]!.GetValue<string>() == "StatefulSet");

    public static JsonObject Container(List<JsonObject> objects) => Set(objects)["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();

    public static JsonObject Env(List<JsonObject> objects, string name) =>
        Container(objects)["env"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == name)!.AsObject();

    public static JsonObject Mount(List<JsonObject> objects, string path) =>
        Container(objects)["volumeMounts"]!.AsArray().Single(m => m!["mountPath"]!.GetValue<string>() == path)!.AsObject();
}
