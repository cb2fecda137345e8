// Validates Kubernetes manifests offline against the Kubernetes API schema (kubernetes-models).
// Input: multi-document YAML on stdin (e.g. `kubectl kustomize deploy/k8s | node validate.mjs`).
// Output on stdout: JSON {"objects": [{"apiVersion", "kind", "name", "errors": [...], "object": {...}}]}, so that a
// caller can check its own invariants on the parsed objects. Exit code: 0 if every object is valid, 1 if any is
// not, 2 if the input is not YAML. The schema check does not catch unknown (misspelled) fields.
import { parseAllDocuments } from "yaml";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

// "apps/v1" + "StatefulSet" -> kubernetes-models/apps/v1/StatefulSet; core "v1" -> kubernetes-models/v1/Service.
async function modelFor(apiVersion, kind) {
  const path = `kubernetes-models/${apiVersion}/${kind}`;
  try {
    const module = await import(path);
    return module[kind];
  } catch {
    return undefined;
  }
}

function describe(error) {
  // kubernetes-models throws an error whose `errors` are AJV errors: { instancePath, message, params }.
  if (Array.isArray(error?.errors) && error.errors.length > 0)
    return error.errors.map(e => `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`);
  return [String(error?.message ?? error)];
}

const text = await readStdin();
const documents = parseAllDocuments(text);
const objects = [];
let invalid = 0;
for (const document of documents) {
  if (document.errors.length > 0) {
    console.error(`not YAML: ${document.errors.map(e => e.message).join("; ")}`);
    process.exit(2);
  }
  const object = document.toJS();
  if (object === null || object === undefined) continue;
  const { apiVersion, kind } = object;
  const name = object?.metadata?.name ?? "(no name)";
  const errors = [];
  const Model = apiVersion && kind ? await modelFor(apiVersion, kind) : undefined;
  if (!Model) {
    errors.push(`no Kubernetes schema for apiVersion '${apiVersion}' kind '${kind}'`);
  } else {
    try {
      new Model(object).validate();
    } catch (error) {
      errors.push(...describe(error));
    }
  }
  if (errors.length > 0) invalid++;
  objects.push({ apiVersion, kind, name, errors, object });
}
process.stdout.write(JSON.stringify({ objects }, null, 1) + "\n");
process.exit(invalid > 0 ? 1 : 0);
