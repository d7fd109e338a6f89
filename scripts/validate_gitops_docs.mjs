#!/usr/bin/env node
// Validates generated GitOps documents against the tools' schemas, offline.
//
// Usage: node validate_gitops_docs.mjs [--root DIR] FILE...
//
// Every YAML document in FILE... is dispatched on apiVersion/kind:
//   argoproj.io/v1alpha1 Application            Argo CD CRD schema
//   helm.toolkit.fluxcd.io/v2 HelmRelease       Flux helm-controller CRD schema
//   source.toolkit.fluxcd.io/v1 HelmRepository, GitRepository
//                                                Flux source-controller CRD schemas
//   v1 ConfigMap                                 Kubernetes core OpenAPI schema
//   v1 ServiceAccount, v1 Service, apps/v1 Deployment,
//   autoscaling/v2 HorizontalPodAutoscaler, policy/v1 PodDisruptionBudget
//                                                Kubernetes OpenAPI schemas
//                                                (aicrd's deploy/ files)
//   kustomize.config.k8s.io/v1beta1 Kustomization, and any file named
//   helmfile.yaml                                OUR structural schemas in
//                                                real_tool_schemas/ (no published
//                                                schema is installable here)
// The CRD/OpenAPI schemas are the validators that the npm packages
// @kubernetes-models/argo-cd, @kubernetes-models/flux-cd and kubernetes-models
// generate from the published CRDs / API spec. Those validators accept unknown
// fields (as CRD schemas do); the API server rejects them under kubectl's
// default strict field validation, so unknown fields are reported here too:
// a field is unknown when the validator never looked it up on an object whose
// schema names properties (maps and preserve-unknown-fields objects are
// enumerated or never inspected, and are left alone).
//
// Cross-document checks over all FILEs: Flux sourceRef/dependsOn/valuesFrom
// targets exist; Argo CD `path` sources and `$values/` files exist under
// --root; helmfile needs/charts/values files resolve; kustomization resources
// exist. Prints `ok LABEL` or `FAIL LABEL: reason` per document; exit 1 on
// any failure. Node modules come from $AICR_TOOLS_DIR/node_modules (default
// <repo>/target/tools/node_modules; see scripts/install_real_tools.sh).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const tools = process.env.AICR_TOOLS_DIR || path.join(here, "..", "target", "tools");
const nm = path.join(tools, "node_modules");
const load = async (rel) => import(pathToFileURL(path.join(nm, rel)).href);

const YAML = (await load("yaml/dist/index.js")).default;
const Ajv = (await load("ajv/dist/ajv.js")).default;

const SCHEMAS = {
  "argoproj.io/v1alpha1 Application":
    "@kubernetes-models/argo-cd/_schemas/ComGithubArgoprojArgoCdV3PkgApisApplicationV1alpha1Application.js",
  "helm.toolkit.fluxcd.io/v2 HelmRelease":
    "@kubernetes-models/flux-cd/_schemas/ComGithubFluxcdHelmControllerApiV2HelmRelease.js",
  "source.toolkit.fluxcd.io/v1 HelmRepository":
    "@kubernetes-models/flux-cd/_schemas/ComGithubFluxcdSourceControllerApiV1HelmRepository.js",
  "source.toolkit.fluxcd.io/v1 GitRepository":
    "@kubernetes-models/flux-cd/_schemas/ComGithubFluxcdSourceControllerApiV1GitRepository.js",
  "v1 ConfigMap": "kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap.js",
  // aicrd's own deployment (deploy/): the Kubernetes API's schemas.
  "v1 ServiceAccount": "kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount.js",
  "v1 Service": "kubernetes-models/_schemas/IoK8sApiCoreV1Service.js",
  "apps/v1 Deployment": "kubernetes-models/_schemas/IoK8sApiAppsV1Deployment.js",
  "autoscaling/v2 HorizontalPodAutoscaler":
    "kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler.js",
  "policy/v1 PodDisruptionBudget": "kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget.js",
};
const validators = {};
for (const [key, rel] of Object.entries(SCHEMAS)) validators[key] = (await load(rel)).validate;

const ajv = new Ajv({ allErrors: true, strict: false });
const ours = (name) =>
  ajv.compile(JSON.parse(fs.readFileSync(path.join(here, "real_tool_schemas", name), "utf8")));
const helmfileSchema = ours("helmfile.schema.json");
const kustomizationSchema = ours("kustomization.schema.json");

// Wraps plain data so every property lookup is recorded per object.
function track(value, where, seen) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${where}/${i}`, seen));
  const rec = { where, value, accessed: new Set(), enumerated: false };
  seen.push(rec);
  const target = {};
  for (const [k, v] of Object.entries(value)) target[k] = track(v, `${where}/${k}`, seen);
  return new Proxy(target, {
    get(t, k, r) {
      if (typeof k === "string") rec.accessed.add(k);
      return Reflect.get(t, k, r);
    },
    has(t, k) {
      if (typeof k === "string") rec.accessed.add(k);
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      rec.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

function crdErrors(validate, doc) {
  const seen = [];
  validate(track(doc, "", seen));
  const errs = (validate.errors || []).map(describe);
  for (const r of seen) {
    if (r.enumerated || r.accessed.size === 0) continue;
    for (const k of Object.keys(r.value)) if (!r.accessed.has(k)) errs.push(`${r.where}/${k}: unknown field`);
  }
  return errs;
}

// The generated validators carry no messages: say keyword and parameters.
const describe = (e) =>
  `${e.instancePath || "/"} ${e.message ?? `fails ${e.keyword} ${JSON.stringify(e.params)}`}`;

const ajvErrors = (validate, doc) => (validate(doc) ? [] : validate.errors.map(describe));

// --- arguments and documents ---------------------------------------------
let root = null;
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--root") root = argv[++i];
  else files.push(argv[i]);
}
if (!files.length) {
  console.error("usage: validate_gitops_docs.mjs [--root DIR] FILE...");
  process.exit(2);
}

const docs = []; // { file, label, doc, errs }
let failed = 0;
for (const file of files) {
  let parsed;
  try {
    parsed = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), { uniqueKeys: true });
  } catch (e) {
    console.log(`FAIL ${file}: ${e.message}`);
    failed++;
    continue;
  }
  parsed.forEach((d, i) => {
    const label = `${file}#${i}`;
    if (d.errors.length) {
      docs.push({ file, label, doc: null, errs: d.errors.map((e) => e.message) });
      return;
    }
    const doc = d.toJS();
    if (doc === null || doc === undefined) return; // empty document
    docs.push({ file, label, doc, errs: [] });
  });
}

// --- per-document schemas ----------------------------------------------
for (const d of docs) {
  if (!d.doc) continue;
  if (path.basename(d.file) === "helmfile.yaml") {
    d.kind = "helmfile (our schema)";
    d.errs.push(...ajvErrors(helmfileSchema, d.doc));
    continue;
  }
  const key = `${d.doc.apiVersion} ${d.doc.kind}`;
  d.kind = `${d.doc.kind}/${d.doc.metadata?.name ?? ""}`;
  if (key === "kustomize.config.k8s.io/v1beta1 Kustomization") {
    d.kind = "Kustomization (our schema)";
    d.errs.push(...ajvErrors(kustomizationSchema, d.doc));
  } else if (validators[key]) {
    d.errs.push(...crdErrors(validators[key], d.doc));
  } else {
    d.errs.push(`no schema for ${key}`);
  }
}

// --- cross-document checks -----------------------------------------------
const byKind = (kind) => docs.filter((d) => d.doc?.kind === kind);
const has = (kind, name, ns) =>
  byKind(kind).some((d) => d.doc.metadata?.name === name && (d.doc.metadata?.namespace ?? "default") === ns);
const exists = (p) => fs.existsSync(p);

for (const d of byKind("HelmRelease")) {
  const ns = d.doc.metadata?.namespace ?? "default";
  const spec = d.doc.spec ?? {};
  const ref = spec.chart?.spec?.sourceRef;
  if (ref && !has(ref.kind, ref.name, ref.namespace ?? ns))
    d.errs.push(`sourceRef ${ref.kind}/${ref.name} not among the documents`);
  if (ref?.kind === "GitRepository" && root && !exists(path.join(root, spec.chart.spec.chart, "Chart.yaml")))
    d.errs.push(`local chart ${spec.chart.spec.chart} has no Chart.yaml under the bundle`);
  for (const dep of spec.dependsOn ?? [])
    if (!has("HelmRelease", dep.name, dep.namespace ?? ns)) d.errs.push(`dependsOn ${dep.name}: no such HelmRelease`);
  for (const vf of spec.valuesFrom ?? [])
    if (!vf.optional && !has(vf.kind, vf.name, ns)) d.errs.push(`valuesFrom ${vf.kind}/${vf.name} not among the documents`);
}

if (root) {
  for (const d of byKind("Application")) {
    const spec = d.doc.spec ?? {};
    for (const src of [spec.source, ...(spec.sources ?? [])].filter(Boolean)) {
      if (src.path !== undefined && src.path !== "." && !exists(path.join(root, src.path)))
        d.errs.push(`source path ${src.path} missing from the bundle`);
      for (const vf of src.helm?.valueFiles ?? [])
        if (vf.startsWith("$values/") && !exists(path.join(root, vf.slice(8))))
          d.errs.push(`valueFile ${vf} missing from the bundle`);
    }
  }
}

for (const d of docs) {
  if (!d.doc) continue;
  const dir = path.dirname(d.file);
  if (path.basename(d.file) === "helmfile.yaml") {
    const rels = d.doc.releases ?? [];
    const repos = new Set((d.doc.repositories ?? []).map((r) => r.name));
    const ids = new Set(rels.map((r) => `${r.namespace ?? ""}/${r.name}`));
    if (ids.size !== rels.length) d.errs.push("duplicate release namespace/name");
    for (const r of rels) {
      const chart = String(r.chart ?? "");
      if (chart.startsWith("./") || chart.startsWith("../")) {
        if (!exists(path.join(dir, chart, "Chart.yaml"))) d.errs.push(`${r.name}: local chart ${chart} has no Chart.yaml`);
      } else if (!chart.startsWith("oci://") && !repos.has(chart.split("/")[0])) {
        d.errs.push(`${r.name}: chart ${chart} names no repository`);
      }
      for (const v of r.values ?? [])
        if (typeof v === "string" && !exists(path.join(dir, v))) d.errs.push(`${r.name}: values file ${v} missing`);
      for (const need of r.needs ?? []) {
        const parts = need.split("/");
        const id = parts.length > 1 ? `${parts.at(-2)}/${parts.at(-1)}` : `${r.namespace ?? ""}/${need}`;
        if (!ids.has(id)) d.errs.push(`${r.name}: needs ${need}: no such release`);
      }
    }
  } else if (d.doc.kind === "Kustomization") {
    for (const res of d.doc.resources ?? [])
      if (!exists(path.join(dir, res))) d.errs.push(`resource ${res} missing`);
  }
}

for (const d of docs) {
  if (d.errs.length) {
    failed++;
    console.log(`FAIL ${d.label} ${d.kind ?? ""}: ${d.errs.slice(0, 8).join("; ")}`);
  } else {
    console.log(`ok ${d.label} ${d.kind}`);
  }
}
process.exit(failed ? 1 : 0);
