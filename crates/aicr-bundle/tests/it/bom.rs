//! `bom.cdx.json`: one CycloneDX component per deployed component, with
//! its chart, version and source; edges only between deployed ones.

use aicr_bundle::Deployer;
use aicr_core::values::SetOverride;
use serde_json::Value;

use crate::support::{case, options, text};

fn bom(deployer: Deployer, sets: &[&str]) -> Option<Value> {
    let (catalog, recipe) = case("eks-gb200-ubuntu-inference-dynamo-helm")?;
    let mut o = options(deployer);
    for s in sets {
        o.sets.push(SetOverride::parse(s).unwrap());
    }
    let tree = aicr_bundle::bundle(&catalog, &recipe, &o, &Default::default()).unwrap();
    let checksums = text(&tree, "checksums.txt");
    assert!(
        checksums.lines().any(|l| l.ends_with("  bom.cdx.json")),
        "checksums.txt covers the BOM"
    );
    Some(serde_json::from_str(&text(&tree, "bom.cdx.json")).unwrap())
}

fn component<'a>(bom: &'a Value, name: &str) -> Option<&'a Value> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == name)
}

#[test]
fn every_component_is_listed_with_chart_version_and_source() {
    let Some(bom) = bom(Deployer::Helm, &[]) else {
        return;
    };
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["metadata"]["tools"]["components"][0]["version"], "test");
    assert_eq!(bom["components"].as_array().unwrap().len(), 17);

    let gpu = component(&bom, "gpu-operator").unwrap();
    assert_eq!(gpu["name"], "gpu-operator");
    assert_eq!(gpu["version"], "v25.10.1");
    assert_eq!(
        gpu["externalReferences"][0]["url"],
        "https://helm.ngc.nvidia.com/nvidia"
    );
    assert!(gpu.get("hashes").is_none(), "not vendored, so no digest");

    // A chart from an OCI registry keeps its oci:// source.
    let grove = component(&bom, "grove").unwrap();
    assert_eq!(
        grove["externalReferences"][0]["url"],
        "oci://ghcr.io/ai-dynamo/grove"
    );
    // A manifest-only component has no source to point at.
    let local = component(&bom, "nodewright-customizations").unwrap();
    assert!(local.get("externalReferences").is_none());

    let deps = bom["dependencies"].as_array().unwrap();
    let of = |name: &str| {
        deps.iter()
            .find(|d| d["ref"] == name)
            .unwrap_or_else(|| panic!("no dependency entry for {name}"))["dependsOn"]
            .clone()
    };
    assert_eq!(of("aicr-bundle").as_array().unwrap().len(), 17);
    assert_eq!(of("kai-scheduler"), serde_json::json!(["gpu-operator"]));
}

#[test]
fn a_disabled_component_and_its_edges_are_gone() {
    let Some(bom) = bom(Deployer::Flux, &["gpu-operator:enabled=false"]) else {
        return;
    };
    assert!(component(&bom, "gpu-operator").is_none());
    assert_eq!(bom["components"].as_array().unwrap().len(), 16);
    for d in bom["dependencies"].as_array().unwrap() {
        assert!(
            !d["dependsOn"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "gpu-operator"),
            "{d}"
        );
    }
    let subject = &bom["metadata"]["component"];
    assert!(
        subject["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "aicr:deployer" && p["value"] == "flux")
    );
}

#[test]
fn the_bom_is_the_same_for_every_run() {
    let (Some(a), Some(b)) = (bom(Deployer::Argocd, &[]), bom(Deployer::Argocd, &[])) else {
        return;
    };
    assert_eq!(a, b);
    assert!(
        a.get("serialNumber").is_none(),
        "a random serial would differ per run"
    );
}
