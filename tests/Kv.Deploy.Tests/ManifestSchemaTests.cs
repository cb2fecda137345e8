using System.Text.Json.Nodes;
using Kv.Deploy.Tests.Manifests;

namespace Kv.Deploy.Tests;

/// <summary>Every object that <c>kubectl apply -k deploy/k8s</c> would send passes the Kubernetes schema, and the validator catches broken ones.</summary>
public sealed class ManifestSchemaTests(DeployFixture deploy) : IClassFixture<DeployFixture>
{
    [Fact]
    public void EveryRenderedObject_PassesTheKubernetesSchema()
    {
        Assert.True(deploy.Report.AllValid, string.Join('\n', deploy.Report.Errors));
        Assert.Equal(
            ["PodDisruptionBudget/kv", "Service/kv", "Service/kv-peers", "StatefulSet/kv"],
            deploy.Report.Objects.Select(o => $"{o.Kind}/{o.Name}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AStatefulSetWithoutASelector_IsRejected()
    {
        SchemaReport report = await ValidateBroken("StatefulSet", set => set["spec"]!.AsObject().Remove("selector"));

        Assert.False(report.AllValid);
        Assert.Contains(report.Errors, e => e.StartsWith("StatefulSet/kv: /spec must have required property selector", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AContainerPortThatIsNotANumber_IsRejected()
    {
        SchemaReport report = await ValidateBroken("StatefulSet",
            set => set["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"] = "seven-thousand");

        Assert.Contains(report.Errors, e => e.StartsWith("StatefulSet/kv: /spec/template/spec/containers/0/ports/0/containerPort must be integer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMisspelledKind_IsRejected()
    {
        SchemaReport report = await ValidateBroken("Service", service => service["kind"] = "Servce");

        Assert.Contains(report.Errors, e => e.Contains("no Kubernetes schema for apiVersion 'v1' kind 'Servce'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABudgetWithAStringWhereAnObjectBelongs_IsRejected()
    {
        SchemaReport report = await ValidateBroken("PodDisruptionBudget", budget => budget["spec"]!["selector"] = "app=kv");

        Assert.Contains(report.Errors, e => e.StartsWith("PodDisruptionBudget/kv: /spec/selector must be object", StringComparison.Ordinal));
    }

    /// <summary>The rendered manifests with the first object of <paramref name="kind"/> changed, through the validator.</summary>
    private async Task<SchemaReport> ValidateBroken(string kind, Action<JsonObject> breakIt)
    {
        var objects = ManifestTools.Copy(deploy.Report.Objects);
        breakIt(objects.First(o => o["kind"]!.GetValue<string>() == kind));
        return await ManifestTools.ValidateAsync(ManifestTools.ToYamlStream(objects));
    }
}
