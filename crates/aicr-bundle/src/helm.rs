//! `--deployer helm`: the numbered folders plus `deploy.sh`, `undeploy.sh`,
//! `README.md` and the recipe the bundle was made from.

use serde_json::{Value, json};

use aicr_core::error::Result;

use crate::localformat::{self, Folder, Scripts};
use crate::options::BundleOptions;
use crate::prepare::Prepared;
use crate::templates;
use crate::tree::FileTree;
use crate::vendor::Vendor;

/// CRD groups owned by well-known components, for deploy.sh's warning
/// about CRDs left by an earlier installation.
const CRD_GROUPS: [(&str, &str); 8] = [
    ("cert-manager", "cert-manager.io"),
    ("kube-prometheus-stack", "monitoring.coreos.com"),
    ("gpu-operator", "nvidia.com"),
    ("nfd", "nfd.k8s-sigs.io"),
    ("network-operator", "mellanox.com"),
    ("kai-scheduler", "kai.scheduler scheduling.run.ai"),
    ("kubeflow-trainer", "trainer.kubeflow.org jobset.x-k8s.io"),
    ("nodewright-operator", "skyhook.nvidia.com"),
];

/// Builds the helm bundle.
pub fn generate(
    prepared: &Prepared,
    options: &BundleOptions,
    vendor: Option<&mut Vendor<'_>>,
) -> Result<FileTree> {
    let folders = localformat::plan(prepared)?;
    let mut tree = FileTree::new();
    localformat::write(&folders, &mut tree, Scripts::Included, vendor)?;
    let ctx = script_context(prepared, &folders, options);
    tree.insert_executable("deploy.sh", templates::render("deploy.sh", &ctx)?);
    tree.insert_executable("undeploy.sh", templates::render("undeploy.sh", &ctx)?);
    tree.insert("README.md", templates::render("README-helm.md", &ctx)?);
    tree.insert("recipe.yaml", recipe_yaml(prepared));
    Ok(tree)
}

/// The filtered recipe, in its document field order, 4-space indented.
fn recipe_yaml(prepared: &Prepared) -> String {
    let options = serde_saphyr::ser_options! { indent_step: 4, compact_list_indent: false };
    serde_saphyr::to_string_with_options(&prepared.recipe, options).expect("recipes always render")
}

/// Folder rows shared by the scripts and READMEs.
pub fn folder_rows(folders: &[Folder<'_>]) -> Vec<Value> {
    folders
        .iter()
        .map(|f| {
            let r = &f.component.resolved;
            let local = f.kind == localformat::FolderKind::LocalChart;
            json!({
                "dir": f.dir(),
                "name": f.name,
                "namespace": f.namespace(),
                "chart": if local { format!("./{}", f.dir()) } else { r.chart.clone() },
                "version": if local { "0.1.0".to_string() } else { r.version.clone() },
            })
        })
        .collect()
}

fn script_context(prepared: &Prepared, folders: &[Folder<'_>], options: &BundleOptions) -> Value {
    let mut namespaces: Vec<&str> = folders.iter().map(Folder::namespace).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let names: Vec<&str> = prepared.components.iter().map(|c| c.name()).collect();
    let crd_groups: Vec<&str> = CRD_GROUPS
        .iter()
        .filter(|(c, _)| names.contains(c))
        .map(|(_, g)| *g)
        .collect();
    let nodewright_namespace = prepared
        .components
        .iter()
        .find(|c| c.name() == "nodewright-operator")
        .map(|c| c.resolved.namespace.clone());
    let criteria = aicr_core::yaml::to_value(&prepared.recipe.criteria);
    let criteria: Vec<String> = criteria
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "version": options.tool_version,
        "folders": folder_rows(folders),
        "namespaces": namespaces,
        "crd_groups": crd_groups.join(" "),
        "nodewright_namespace": nodewright_namespace,
        "criteria": criteria.join(", "),
    })
}
