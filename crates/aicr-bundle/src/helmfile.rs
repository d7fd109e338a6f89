//! `--deployer helmfile`: the numbered folders plus a `helmfile.yaml` whose
//! releases form a linear `needs` chain in folder order.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use aicr_core::error::Result;

use crate::helm::folder_rows;
use crate::localformat::{self, Folder, FolderKind, Scripts, is_oci};
use crate::options::BundleOptions;
use crate::prepare::Prepared;
use crate::templates;
use crate::tree::FileTree;
use crate::vendor::Vendor;

/// Builds the helmfile bundle.
pub fn generate(
    prepared: &Prepared,
    options: &BundleOptions,
    mut vendor: Option<&mut Vendor<'_>>,
) -> Result<FileTree> {
    let folders = localformat::plan(prepared)?;
    let mut tree = FileTree::new();
    localformat::write(
        &folders,
        &mut tree,
        Scripts::Included,
        vendor.as_deref_mut(),
    )?;
    tree.insert("helmfile.yaml", helmfile_yaml(&folders, vendor.as_deref())?);
    let ctx = json!({"version": options.tool_version, "folders": folder_rows(&folders)});
    tree.insert("README.md", templates::render("README-helmfile.md", &ctx)?);
    Ok(tree)
}

/// The helmfile repository alias of a chart URL.
pub fn repo_alias(url: &str) -> String {
    let mut s = url.to_lowercase();
    for scheme in ["oci://", "https://", "http://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest.to_string();
            break;
        }
    }
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    let mut alias = String::new();
    let mut in_run = false;
    for ch in s.chars() {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' {
            alias.push(ch);
            in_run = false;
        } else if !in_run {
            alias.push('-');
            in_run = true;
        }
    }
    let alias = alias.trim_matches('-');
    let alias: String = alias.chars().take(63).collect();
    let alias = alias.trim_end_matches('-');
    if alias.is_empty() {
        "default-repo".to_string()
    } else {
        alias.to_string()
    }
}

fn helmfile_yaml(folders: &[Folder<'_>], vendor: Option<&Vendor<'_>>) -> Result<String> {
    let mut out = String::new();
    out.push_str(templates::LICENSE_HEADER);
    out.push('\n');
    // Repositories: one per distinct URL, sorted by alias.
    let mut repos: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for f in folders
        .iter()
        .filter(|f| f.kind == FolderKind::Upstream && vendor.is_none())
    {
        let source = &f.component.resolved.source;
        let oci = is_oci(source);
        let url = source.strip_prefix("oci://").unwrap_or(source).to_string();
        repos.entry(repo_alias(source)).or_insert((url, oci));
    }
    if !repos.is_empty() {
        out.push_str("repositories:\n");
        for (alias, (url, oci)) in &repos {
            let _ = writeln!(out, "  - name: {alias}\n    url: {url}");
            if *oci {
                out.push_str("    oci: true\n");
            }
        }
    }
    out.push_str("helmDefaults:\n  wait: true\n  timeout: 600\n  createNamespace: true\n");
    out.push_str("releases:\n");
    for (i, f) in folders.iter().enumerate() {
        let r = &f.component.resolved;
        let dir = f.dir();
        let _ = writeln!(
            out,
            "  - name: {}\n    namespace: {}",
            f.name,
            f.namespace()
        );
        match f.kind {
            FolderKind::Upstream if let Some(vendor) = vendor => {
                let (record, _) = vendor.chart(f.component.name())?;
                let path = crate::vendor::root_path(record);
                let _ = writeln!(out, "    chart: ./{path}");
            }
            FolderKind::Upstream => {
                let _ = writeln!(
                    out,
                    "    chart: {}/{}\n    version: {}",
                    repo_alias(&r.source),
                    r.chart,
                    yaml_scalar(&r.version)
                );
            }
            FolderKind::LocalChart => {
                let _ = writeln!(out, "    chart: ./{dir}");
            }
        }
        let _ = writeln!(out, "    values:\n      - ./{dir}/values.yaml");
        if !f.component.dynamic_paths.is_empty() {
            let _ = writeln!(out, "      - ./{dir}/cluster-values.yaml");
        }
        if i > 0 {
            let prev = &folders[i - 1];
            let need = if prev.namespace() == f.namespace() {
                prev.name.clone()
            } else {
                format!("{}/{}", prev.namespace(), prev.name)
            };
            let _ = writeln!(out, "    needs:\n      - {need}");
        }
        if f.name == "kai-scheduler" && f.kind == FolderKind::Upstream {
            out.push_str("    wait: false\n    timeout: 1200\n");
        }
        if f.kind == FolderKind::LocalChart && f.creates_namespace() {
            out.push_str("    createNamespace: false\n");
        }
    }
    Ok(out)
}

/// A plain scalar, quoted when YAML would read it as something else.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
        && text.parse::<f64>().is_err()
        && !matches!(
            text,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        );
    if plain {
        text.to_string()
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_the_reference_rule() {
        assert_eq!(
            repo_alias("https://charts.jetstack.io"),
            "charts-jetstack-io"
        );
        assert_eq!(repo_alias("oci://ghcr.io/nvidia"), "ghcr-io-nvidia");
        assert_eq!(
            repo_alias("https://jmcgrath207.github.io/k8s-ephemeral-storage-metrics/chart/"),
            "jmcgrath207-github-io-k8s-ephemeral-storage-metrics-chart"
        );
        assert_eq!(repo_alias("https://x.example/repo.git"), "x-example-repo");
        assert_eq!(repo_alias("://"), "default-repo");
    }

    #[test]
    fn versions_that_look_numeric_are_quoted() {
        assert_eq!(yaml_scalar("v1.20.2"), "v1.20.2");
        assert_eq!(yaml_scalar("83.7.0"), "83.7.0");
        assert_eq!(yaml_scalar("1.5"), "\"1.5\"");
    }
}
