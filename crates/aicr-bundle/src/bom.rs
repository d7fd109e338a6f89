//! `bom.cdx.json`: the bundle's chart bill of materials, CycloneDX 1.6.
//!
//! One component per recipe component the bundle deploys (disabled ones
//! are gone by then): its chart (or Kustomize source), version, where it
//! comes from, and, when the chart archive is vendored into the bundle,
//! the archive's path and SHA-256. Container images are not listed: they
//! are only known from rendered charts.
//!
//! The document is a pure function of the bundle's inputs, like every
//! other file: no `serialNumber` (CycloneDX wants a fresh random one per
//! document, which would make two runs differ) and no timestamp. Keys
//! come out in insertion order (`serde_json`'s `preserve_order`).

use aicr_core::model::ComponentType;
use serde_json::{Value, json};

use crate::options::BundleOptions;
use crate::prepare::{Component, Prepared};
use crate::vendor::VendoredChart;

/// The file name at the bundle root.
pub const BOM_FILE: &str = "bom.cdx.json";

/// The `bom-ref` of the bundle itself (the BOM's subject).
const BUNDLE_REF: &str = "aicr-bundle";

/// The BOM text (pretty JSON, newline-terminated) for `prepared`.
pub fn render(prepared: &Prepared, options: &BundleOptions, vendored: &[VendoredChart]) -> String {
    let recipe = &prepared.recipe;
    let criteria = &recipe.criteria;
    let mut subject_properties = vec![
        property("aicr:deployer", options.deployer.as_str()),
        property("aicr:criteria:service", &criteria.service.to_string()),
        property(
            "aicr:criteria:accelerator",
            &criteria.accelerator.to_string(),
        ),
        property("aicr:criteria:intent", &criteria.intent.to_string()),
        property("aicr:criteria:os", &criteria.os.to_string()),
        property("aicr:criteria:platform", &criteria.platform.to_string()),
    ];
    if criteria.nodes > 0 {
        subject_properties.push(property("aicr:criteria:nodes", &criteria.nodes.to_string()));
    }
    let mut subject = json!({
        "type": "application",
        "bom-ref": BUNDLE_REF,
        "name": "aicr-bundle",
    });
    if !recipe.metadata.version.is_empty() {
        subject["version"] = json!(recipe.metadata.version);
    }
    subject["properties"] = Value::Array(subject_properties);

    let components: Vec<Value> = prepared
        .components
        .iter()
        .map(|c| component(c, vendored.iter().find(|v| v.component == c.name())))
        .collect();

    let names: Vec<&str> = prepared.components.iter().map(Component::name).collect();
    let mut dependencies = vec![json!({"ref": BUNDLE_REF, "dependsOn": names})];
    for c in &prepared.components {
        // Only edges to components the bundle holds: a disabled
        // dependency is not part of this document.
        let on: Vec<&str> = c
            .resolved
            .dependency_refs
            .iter()
            .map(String::as_str)
            .filter(|d| names.contains(d))
            .collect();
        dependencies.push(json!({"ref": c.name(), "dependsOn": on}));
    }

    let bom = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "aicr",
                    "version": options.tool_version,
                }],
            },
            "component": subject,
        },
        "components": components,
        "dependencies": dependencies,
    });
    let mut text = serde_json::to_string_pretty(&bom).expect("a JSON value always serialises");
    text.push('\n');
    text
}

fn component(c: &Component, archive: Option<&VendoredChart>) -> Value {
    let r = &c.resolved;
    let kustomize = r.kind == ComponentType::Kustomize;
    let name = if r.chart.is_empty() {
        &r.name
    } else {
        &r.chart
    };
    let version = if kustomize { &r.tag } else { &r.version };
    let mut out = json!({
        "type": "application",
        "bom-ref": r.name,
        "name": name,
    });
    if !version.is_empty() {
        out["version"] = json!(version);
    }
    if let Some(a) = archive {
        out["hashes"] = json!([{"alg": "SHA-256", "content": a.sha256}]);
    }
    if !r.source.is_empty() {
        out["externalReferences"] = json!([{
            "type": if kustomize { "vcs" } else { "distribution" },
            "url": r.source,
        }]);
    }
    let mut properties = vec![
        property("aicr:component", &r.name),
        property("aicr:type", if kustomize { "Kustomize" } else { "Helm" }),
    ];
    if !r.namespace.is_empty() {
        properties.push(property("aicr:namespace", &r.namespace));
    }
    if kustomize && !r.path.is_empty() {
        properties.push(property("aicr:kustomize-path", &r.path));
    }
    if r.source.is_empty() {
        properties.push(property("aicr:source", "bundle (manifests only)"));
    }
    if let Some(a) = archive {
        properties.push(property("aicr:vendored-archive", &a.path));
        properties.push(property("aicr:vendored-from", &a.url));
    }
    out["properties"] = Value::Array(properties);
    out
}

fn property(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}
