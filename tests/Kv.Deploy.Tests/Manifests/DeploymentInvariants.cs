using System.Globalization;
using System.Text.Json.Nodes;
using Kv.Deploy.Tests.Docker;

namespace Kv.Deploy.Tests.Manifests;

/// <summary>
/// The properties of the manifests that the schema cannot see but a Kv cluster depends on: an odd number of
/// replicas, a disruption budget that keeps a majority, probes and Services on the ports the node really listens
/// on, stable peer names from the headless Service, the metrics port where the scrape annotations say, the data
/// directory on the claimed volume (and a WAL directory, when set, on a claimed volume of its own), and the image (Dockerfile) agreeing on ports, volume, settings and user.
/// Each returned problem names the object and what is wrong.
/// </summary>
internal static class DeploymentInvariants
{
    /// <summary>
    /// The shortest grace period allowed: a stopping node hands its leaderships off for at most 2 s
    /// (KvNode.StopAsync), then stops serving and closes RocksDB.
    /// </summary>
    public const int GracePeriodSecondsMin = 10;

    public static IReadOnlyList<string> Check(IReadOnlyList<JsonObject> objects, DockerfileFacts image)
    {
        var problems = new List<string>();
        var sets = objects.Where(o => Kind(o) == "StatefulSet").ToList();
        if (sets.Count != 1)
        {
            problems.Add($"expected one StatefulSet, found {sets.Count}");
            return problems;
        }
        JsonObject set = sets[0];
        string setName = Name(set);
        JsonObject pod = set["spec"]?["template"]?.AsObject() ?? new JsonObject();
        var podLabels = Labels(pod["metadata"]?["labels"]);
        JsonObject container = pod["spec"]?["containers"]?[0]?.AsObject() ?? new JsonObject();
        var ports = (container["ports"]?.AsArray() ?? []).ToDictionary(p => p!["name"]?.GetValue<string>() ?? "", p => p!["containerPort"]!.GetValue<int>());
        var env = (container["env"]?.AsArray() ?? []).Where(e => e!["value"] is not null)
            .ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>());
        void Problem(string what) => problems.Add($"StatefulSet/{setName}: {what}");

        int replicas = set["spec"]?["replicas"]?.GetValue<int>() ?? 1;
        if (replicas < 3 || replicas % 2 == 0)
            Problem($"replicas must be odd and at least 3 (a majority survives one loss without wasting a node), got {replicas}");

        CheckPorts(ports, env, pod, Problem);
        CheckProbes(container, ports, Problem);
        CheckPeers(set, env, ports, objects, Problem);
        CheckStorage(set, container, env, image, Problem);
        CheckPodSpec(pod, podLabels, container, Problem);
        CheckServices(objects, podLabels, ports, problems);
        CheckDisruptionBudget(objects, podLabels, replicas, problems);
        CheckImage(image, ports, env, pod, problems);
        return problems;
    }

    private static void CheckPorts(Dictionary<string, int> ports, Dictionary<string, string> env, JsonObject pod, Action<string> problem)
    {
        if (!ports.TryGetValue("grpc", out int grpc)) problem("the container declares no port named grpc");
        if (!ports.TryGetValue("metrics", out int metrics)) problem("the container declares no port named metrics");
        if (PortOf(env.GetValueOrDefault("KV_LISTEN")) != grpc)
            problem($"KV_LISTEN ({env.GetValueOrDefault("KV_LISTEN")}) is not on the grpc container port {grpc}");
        if (PortOf(env.GetValueOrDefault("KV_METRICS_LISTEN")) != metrics)
            problem($"KV_METRICS_LISTEN ({env.GetValueOrDefault("KV_METRICS_LISTEN")}) is not on the metrics container port {metrics}");
        var annotations = pod["metadata"]?["annotations"];
        if (annotations?["prometheus.io/scrape"]?.GetValue<string>() != "true") problem("the pod template lacks prometheus.io/scrape: \"true\"");
        if (annotations?["prometheus.io/port"]?.GetValue<string>() != metrics.ToString(CultureInfo.InvariantCulture))
            problem($"prometheus.io/port ({annotations?["prometheus.io/port"]}) is not the metrics port {metrics}");
        if (annotations?["prometheus.io/path"]?.GetValue<string>() != "/metrics")
            problem($"prometheus.io/path ({annotations?["prometheus.io/path"]}) is not /metrics");
    }

    /// <summary>gRPC health is served on the main (KV_LISTEN) port: every probe must ask it there.</summary>
    private static void CheckProbes(JsonObject container, Dictionary<string, int> ports, Action<string> problem)
    {
        foreach (string probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            JsonNode? spec = container[probe];
            if (spec is null)
            {
                if (probe != "startupProbe") problem($"the container has no {probe}");
                continue;
            }
            JsonNode? grpcProbe = spec["grpc"];
            if (grpcProbe is null)
            {
                problem($"{probe} is not a gRPC health probe");
                continue;
            }
            int port = grpcProbe["port"]!.GetValue<int>();
            if (!ports.ContainsValue(port)) problem($"{probe} probes port {port}, which the container does not declare");
            else if (ports.GetValueOrDefault("grpc") != port) problem($"{probe} probes port {port}, not the gRPC port {ports.GetValueOrDefault("grpc")} that serves health");
        }
    }

    /// <summary>
    /// KV_PEERS names the initial members 1..n as pods setName-0..n-1 under the headless Service, n odd and at most
    /// the replica count; KV_ADVERTISE is the pod's own name there; KV_JOIN lists members.
    /// </summary>
    private static void CheckPeers(JsonObject set, Dictionary<string, string> env, Dictionary<string, int> ports, IReadOnlyList<JsonObject> objects,
        Action<string> problem)
    {
        string setName = Name(set);
        string serviceName = set["spec"]?["serviceName"]?.GetValue<string>() ?? "";
        JsonObject? headless = objects.FirstOrDefault(o => Kind(o) == "Service" && Name(o) == serviceName);
        if (headless is null) problem($"serviceName {serviceName} names no Service in the manifests");
        else
        {
            if (headless["spec"]?["clusterIP"]?.GetValue<string>() != "None") problem($"Service {serviceName} must be headless (clusterIP: None) for stable pod names");
            if (headless["spec"]?["publishNotReadyAddresses"]?.GetValue<bool>() != true)
                problem($"Service {serviceName} must publish not-ready addresses, or bootstrapping pods cannot find each other");
        }

        string peers = env.GetValueOrDefault("KV_PEERS", "");
        var entries = peers.Split(',', StringSplitOptions.RemoveEmptyEntries);
        int replicas = set["spec"]?["replicas"]?.GetValue<int>() ?? 1;
        if (entries.Length == 0 || entries.Length % 2 == 0 || entries.Length > replicas)
            problem($"KV_PEERS must name an odd number of initial members, at most the {replicas} replicas; got {entries.Length}");
        for (int i = 0; i < entries.Length; i++)
        {
            string expected = $"{i + 1}=http://{setName}-{i}.{serviceName}.";
            if (!entries[i].StartsWith(expected, StringComparison.Ordinal) || PortOf(entries[i][(entries[i].IndexOf('=', StringComparison.Ordinal) + 1)..]) != ports.GetValueOrDefault("grpc"))
                problem($"KV_PEERS entry {entries[i]} is not {expected}…:{ports.GetValueOrDefault("grpc")} (pod {setName}-{i} is node {i + 1})");
        }
        string advertise = env.GetValueOrDefault("KV_ADVERTISE", "");
        if (!advertise.StartsWith($"http://$(POD_NAME).{serviceName}.", StringComparison.Ordinal) || PortOf(advertise) != ports.GetValueOrDefault("grpc"))
            problem($"KV_ADVERTISE ({advertise}) is not the pod's own name under {serviceName} on the gRPC port");
        string join = env.GetValueOrDefault("KV_JOIN", "");
        if (join.Length == 0 || join.Split(',').Any(url => !entries.Any(e => e.EndsWith("=" + url, StringComparison.Ordinal))))
            problem($"KV_JOIN ({join}) must list initial members from KV_PEERS, so that pods added by scaling up join them");
        if (env.GetValueOrDefault("KV_NODE_ORDINAL") != "$(POD_NAME)")
            problem($"KV_NODE_ORDINAL ({env.GetValueOrDefault("KV_NODE_ORDINAL")}) is not the pod name $(POD_NAME), so the pods would not get distinct node ids");
    }

    private static void CheckStorage(JsonObject set, JsonObject container, Dictionary<string, string> env, DockerfileFacts image, Action<string> problem)
    {
        var claims = (set["spec"]?["volumeClaimTemplates"]?.AsArray() ?? []).Select(c => c!["metadata"]!["name"]!.GetValue<string>()).ToHashSet();
        if (claims.Count == 0) problem("no volumeClaimTemplates: a pod would lose its data with its node");
        string dataDir = env.GetValueOrDefault("KV_DATA_DIR", "");
        var mount = (container["volumeMounts"]?.AsArray() ?? []).FirstOrDefault(m => m!["mountPath"]!.GetValue<string>() == dataDir);
        if (mount is null) problem($"KV_DATA_DIR ({dataDir}) is not a volume mount");
        else if (!claims.Contains(mount["name"]!.GetValue<string>()))
            problem($"KV_DATA_DIR ({dataDir}) is mounted from {mount["name"]}, not from a volumeClaimTemplate");
        if (!image.Volumes.Contains(dataDir)) problem($"KV_DATA_DIR ({dataDir}) is not a VOLUME of the image ({string.Join(", ", image.Volumes)})");
        if (env.TryGetValue("KV_WAL_DIR", out string? walDir)) CheckWalVolume(walDir, mount, container, claims, problem);
    }

    /// <summary>
    /// A WAL directory of its own is for a device of its own: it must be mounted from a claim (an emptyDir would lose
    /// synced writes when the pod moves) other than the data directory's (on the same volume it would share the device).
    /// </summary>
    private static void CheckWalVolume(string walDir, JsonNode? dataMount, JsonObject container, HashSet<string> claims, Action<string> problem)
    {
        var walMount = (container["volumeMounts"]?.AsArray() ?? []).FirstOrDefault(m => m!["mountPath"]!.GetValue<string>() == walDir);
        if (walMount is null) problem($"KV_WAL_DIR ({walDir}) is not a volume mount");
        else if (!claims.Contains(walMount["name"]!.GetValue<string>()))
            problem($"KV_WAL_DIR ({walDir}) is mounted from {walMount["name"]}, not from a volumeClaimTemplate: the WAL's synced writes would not follow the pod");
        else if (dataMount is not null && walMount["name"]!.GetValue<string>() == dataMount["name"]!.GetValue<string>())
            problem($"KV_WAL_DIR ({walDir}) is on the data directory's volume {walMount["name"]}: give the WAL a claim of its own");
    }

    private static void CheckPodSpec(JsonObject pod, Dictionary<string, string> podLabels, JsonObject container, Action<string> problem)
    {
        JsonNode? spec = pod["spec"];
        int grace = spec?["terminationGracePeriodSeconds"]?.GetValue<int>() ?? 30;
        if (grace < GracePeriodSecondsMin) problem($"terminationGracePeriodSeconds {grace} is below {GracePeriodSecondsMin}: too short to hand leadership off and close RocksDB");
        var antiAffinity = spec?["affinity"]?["podAntiAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?.AsArray() ?? [];
        if (!antiAffinity.Any(term => term!["topologyKey"]?.GetValue<string>() == "kubernetes.io/hostname"
                && Selects(term["labelSelector"]?["matchLabels"], podLabels)))
            problem("no required pod anti-affinity on kubernetes.io/hostname selecting the Kv pods: two replicas could share a machine");
        foreach (string kind in new[] { "requests", "limits" })
            foreach (string resource in new[] { "cpu", "memory" })
                if (container["resources"]?[kind]?[resource] is null) problem($"the container has no resources.{kind}.{resource}");
        if (spec?["securityContext"]?["runAsNonRoot"]?.GetValue<bool>() != true) problem("the pod does not require runAsNonRoot");
    }

    private static void CheckServices(IReadOnlyList<JsonObject> objects, Dictionary<string, string> podLabels, Dictionary<string, int> ports, List<string> problems)
    {
        var services = objects.Where(o => Kind(o) == "Service").ToList();
        if (!services.Any(s => s["spec"]?["clusterIP"]?.GetValue<string>() != "None"))
            problems.Add("no client Service (a Service with a cluster IP) in front of the pods");
        foreach (JsonObject service in services)
        {
            if (!Selects(service["spec"]?["selector"], podLabels)) problems.Add($"Service/{Name(service)}: its selector does not select the Kv pods");
            foreach (JsonNode? port in service["spec"]?["ports"]?.AsArray() ?? [])
            {
                JsonNode? target = port!["targetPort"] ?? port["port"];
                bool resolves = target!.GetValueKind() == System.Text.Json.JsonValueKind.String
                    ? ports.ContainsKey(target.GetValue<string>())
                    : ports.ContainsValue(target.GetValue<int>());
                if (!resolves) problems.Add($"Service/{Name(service)}: targetPort {target} is not a container port");
            }
        }
    }

    /// <summary>With n replicas, every range's quorum needs floor(n/2)+1 of them: the budget may never allow fewer.</summary>
    private static void CheckDisruptionBudget(IReadOnlyList<JsonObject> objects, Dictionary<string, string> podLabels, int replicas, List<string> problems)
    {
        var budgets = objects.Where(o => Kind(o) == "PodDisruptionBudget" && Selects(o["spec"]?["selector"]?["matchLabels"], podLabels)).ToList();
        if (budgets.Count != 1)
        {
            problems.Add($"expected one PodDisruptionBudget selecting the Kv pods, found {budgets.Count}");
            return;
        }
        JsonObject budget = budgets[0];
        int majority = replicas / 2 + 1;
        JsonNode? maxUnavailable = budget["spec"]?["maxUnavailable"];
        JsonNode? minAvailable = budget["spec"]?["minAvailable"];
        int? kept = maxUnavailable?.GetValueKind() == System.Text.Json.JsonValueKind.Number ? replicas - maxUnavailable.GetValue<int>()
            : minAvailable?.GetValueKind() == System.Text.Json.JsonValueKind.Number ? minAvailable.GetValue<int>()
            : null;
        if (kept is null) problems.Add($"PodDisruptionBudget/{Name(budget)}: give maxUnavailable or minAvailable as a number of pods");
        else if (kept < majority)
            problems.Add($"PodDisruptionBudget/{Name(budget)}: keeps {kept} of {replicas} pods, below the majority {majority}");
    }

    /// <summary>The image must expose the pod's ports, run as the pod's user, and default to the pod's settings.</summary>
    private static void CheckImage(DockerfileFacts image, Dictionary<string, int> ports, Dictionary<string, string> env, JsonObject pod, List<string> problems)
    {
        var declared = ports.Values.ToHashSet();
        if (!image.ExposedPorts.SetEquals(declared))
            problems.Add($"Dockerfile: EXPOSE {string.Join(' ', image.ExposedPorts.Order())} differs from the container ports {string.Join(' ', declared.Order())}");
        foreach ((string name, string value) in image.Environment)
            if (env.TryGetValue(name, out string? podValue) && podValue != value)
                problems.Add($"Dockerfile: ENV {name}={value} differs from the StatefulSet's {podValue}");
        string? podUser = pod["spec"]?["securityContext"]?["runAsUser"]?.ToString();
        if (image.User is null or "root" or "0") problems.Add("Dockerfile: the image runs as root; set USER");
        else if (podUser is not null && podUser != image.User) problems.Add($"Dockerfile: USER {image.User} differs from the pod's runAsUser {podUser}");
    }

    private static bool Selects(JsonNode? selector, Dictionary<string, string> labels)
    {
        var wanted = Labels(selector);
        return wanted.Count > 0 && wanted.All(l => labels.GetValueOrDefault(l.Key) == l.Value);
    }

    private static Dictionary<string, string> Labels(JsonNode? node) =>
        node?.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()) ?? [];

    private static string Kind(JsonObject o) => o["kind"]?.GetValue<string>() ?? "";

    private static string Name(JsonObject o) => o["metadata"]?["name"]?.GetValue<string>() ?? "";

    /// <summary>The port of a URL that may hold $(VAR) references in its host.</summary>
    private static int? PortOf(string? url)
    {
        if (url is null) return null;
        int colon = url.LastIndexOf(':');
        return colon > 0 && int.TryParse(url.AsSpan(colon + 1).TrimEnd('/'), NumberStyles.None, CultureInfo.InvariantCulture, out int port) ? port : null;
    }
}
