// Prints the environment the kubelet would give one pod of the StatefulSet in the rendered manifests: the first
// container's `env`, with downward-API fields filled in and $(VAR) references expanded as Kubernetes does.
// Usage: kubectl kustomize deploy/k8s | node pod-env.mjs POD_NAME [NAMESPACE] [--shell]
// Output: a JSON object {"NAME": "value", ...}, or with --shell one `export NAME='value'` line per variable.
import { parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
const shell = args.includes("--shell");
const [podName, namespace = "default"] = args.filter(a => a !== "--shell");
if (!podName) {
  console.error("usage: node pod-env.mjs POD_NAME [NAMESPACE] [--shell] < manifests.yaml");
  process.exit(2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = parseAllDocuments(Buffer.concat(chunks).toString("utf8")).map(d => d.toJS()).filter(o => o);
const statefulSets = objects.filter(o => o.kind === "StatefulSet");
if (statefulSets.length !== 1) {
  console.error(`expected one StatefulSet in the manifests, found ${statefulSets.length}`);
  process.exit(2);
}
const set = statefulSets[0];
const prefix = `${set.metadata.name}-`;
const ordinal = podName.startsWith(prefix) ? podName.slice(prefix.length) : "";
if (!/^\d+$/.test(ordinal)) {
  console.error(`pod name '${podName}' is not ${prefix}<ordinal>`);
  process.exit(2);
}

// The downward-API fields a StatefulSet pod has.
const fields = {
  "metadata.name": podName,
  "metadata.namespace": namespace,
  "metadata.labels['apps.kubernetes.io/pod-index']": ordinal,
  "metadata.labels['statefulset.kubernetes.io/pod-name']": podName,
};

// $(VAR) names an earlier variable of the same container; $$ escapes; an unknown reference stays as written.
function expand(value, env) {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name) =>
    match === "$$" ? "$" : Object.hasOwn(env, name) ? env[name] : match);
}

const env = {};
for (const variable of set.spec.template.spec.containers[0].env ?? []) {
  if (variable.value !== undefined) {
    env[variable.name] = expand(String(variable.value), env);
  } else if (variable.valueFrom?.fieldRef) {
    const path = variable.valueFrom.fieldRef.fieldPath;
    if (!Object.hasOwn(fields, path)) {
      console.error(`${variable.name}: fieldRef ${path} is not one this script knows (${Object.keys(fields).join(", ")})`);
      process.exit(2);
    }
    env[variable.name] = fields[path];
  } else {
    console.error(`${variable.name}: only value and valueFrom.fieldRef are supported`);
    process.exit(2);
  }
}

if (shell) {
  for (const [name, value] of Object.entries(env)) console.log(`export ${name}='${value.replaceAll("'", "'\\''")}'`);
} else {
  process.stdout.write(JSON.stringify(env, null, 1) + "\n");
}
