//! argocd-helm on a recipe with pre manifests: the reference fails with
//! "component gpu-operator-pre not found in registry"; ours maps `-pre`
//! folders back to their component.

use aicr_bundle::Deployer;

use crate::support::{case, options, text};

#[test]
fn dynamo_recipe_with_pre_manifests_bundles_for_argocd_helm() {
    let Some((catalog, recipe)) = case("eks-gb200-ubuntu-inference-dynamo-helm") else {
        return;
    };
    let tree = aicr_bundle::bundle(
        &catalog,
        &recipe,
        &options(Deployer::ArgocdHelm),
        &Default::default(),
    )
    .unwrap();

    // The pre folder is a local chart with its rendered ConfigMap.
    assert!(tree.get("014-gpu-operator-pre/Chart.yaml").is_some());
    let cm = text(
        &tree,
        "014-gpu-operator-pre/templates/kernel-module-params.yaml",
    );
    assert!(cm.contains("namespace: gpu-operator"), "{cm}");
    assert!(cm.contains("helm.sh/chart: gpu-operator-25.10.1"), "{cm}");
    assert!(tree.get("014-gpu-operator-pre/install.sh").is_none());
    assert!(tree.get("015-gpu-operator/values.yaml").is_some());
    assert!(tree.get("016-gpu-operator-post/Chart.yaml").is_some());

    // Its Application uses the parent component's override key and the
    // wave of its folder position.
    let app = text(&tree, "templates/gpu-operator-pre.yaml");
    assert!(
        app.contains("argocd.argoproj.io/sync-wave: \"13\""),
        "{app}"
    );
    assert!(app.contains("index .Values \"gpuoperator\""), "{app}");
    assert!(app.contains("path: 014-gpu-operator-pre"), "{app}");
    let app = text(&tree, "templates/gpu-operator.yaml");
    assert!(
        app.contains("argocd.argoproj.io/sync-wave: \"14\""),
        "{app}"
    );
    assert!(app.contains("static/gpu-operator.yaml"), "{app}");

    // One Application per folder, plus the parent.
    let folders: std::collections::BTreeSet<&str> = tree
        .iter()
        .filter_map(|(p, _)| p.split_once('/').map(|(d, _)| d))
        .filter(|d| d.as_bytes()[0].is_ascii_digit())
        .collect();
    assert_eq!(folders.len(), 21);
    let apps = tree
        .iter()
        .filter(|(p, _)| p.starts_with("templates/"))
        .count();
    assert_eq!(apps, folders.len() + 1);

    // Every Chart.yaml is valid SemVer; the recipe says `dev`.
    assert!(text(&tree, "Chart.yaml").contains("\nversion: 0.1.0\n"));
    for (path, file) in tree.iter().filter(|(p, _)| p.ends_with("Chart.yaml")) {
        let body = String::from_utf8_lossy(&file.bytes);
        assert!(body.contains("version: 0.1.0"), "{path}");
    }
    assert!(tree.get("checksums.txt").is_some());
}

#[test]
fn dynamic_values_move_to_the_chart_values() {
    let Some((catalog, recipe)) = case("flags1-argocd-helm") else {
        return;
    };
    let mut opts = options(Deployer::ArgocdHelm);
    opts.dynamic
        .push(aicr_bundle::DynamicPath::parse("gpuoperator:driver.version").unwrap());
    let tree = aicr_bundle::bundle(&catalog, &recipe, &opts, &Default::default()).unwrap();
    let values = text(&tree, "values.yaml");
    assert!(
        values.contains("gpuoperator:\n    driver:\n        version:"),
        "{values}"
    );
    let readme = text(&tree, "README.md");
    assert!(
        readme.contains("--set gpuoperator.driver.version=VALUE"),
        "{readme}"
    );
    assert!(readme.contains("## Dynamic Values"), "{readme}");

    // Plain argocd cannot express them.
    let mut opts = opts.clone();
    opts.deployer = Deployer::Argocd;
    let err = aicr_bundle::bundle(&catalog, &recipe, &opts, &Default::default()).unwrap_err();
    assert_eq!(err.code(), aicr_core::Code::InvalidRequest);
    assert!(
        err.to_string().contains("DynamicValues is not supported"),
        "{err}"
    );
}
