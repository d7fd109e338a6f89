//! `--deployer argocd-helm`: the bundle as a Helm chart (`aicr-bundle`)
//! whose templates are the Argo CD Applications. Static values live in
//! `static/`, `--dynamic` values in the chart's `values.yaml`, merged back
//! at install time.
//!
//! Unlike the reference, `-pre` folders map back to their component just
//! as `-post` folders do (each folder carries its component), and the
//! chart version is always valid SemVer.

use std::fmt::Write as _;

use serde_json::{Value, json};

use aicr_core::error::Result;
use aicr_core::model::Values;

use crate::argocd::chart_source;
use crate::localformat::{self, Folder, FolderKind, Scripts};
use crate::options::BundleOptions;
use crate::prepare::Prepared;
use crate::templates;
use crate::tree::FileTree;
use crate::vendor::{Vendor, VendoredChart};
use crate::yamlout::values_file;

const REPO_REQUIRED: &str = "{{ required \"repoURL is required: pass --set repoURL=<published bundle URL> (e.g., oci://<registry>/<path>/aicr-bundle)\" .Values.repoURL }}";

const AICR_STACK: &str = include_str!("../templates/aicr-stack.yaml");

/// Builds the argocd-helm bundle.
pub fn generate(
    prepared: &Prepared,
    options: &BundleOptions,
    mut vendor: Option<&mut Vendor<'_>>,
) -> Result<FileTree> {
    let folders = localformat::plan(prepared)?;
    let mut tree = FileTree::new();
    localformat::write(&folders, &mut tree, Scripts::Omitted, vendor.as_deref_mut())?;
    tree.insert(
        "Chart.yaml",
        format!(
            "apiVersion: v2\nname: aicr-bundle\ndescription: AICR deployment bundle with dynamic install-time values\ntype: application\nversion: {}\n",
            chart_version(&prepared.recipe.metadata.version)
        ),
    );
    let mut dynamic = Values::new();
    let mut dynamic_keys = Vec::new();
    for c in &prepared.components {
        if c.has_source() && !c.is_kustomize() {
            tree.insert(format!("static/{}.yaml", c.name()), values_file(&c.values));
        }
        if !c.dynamic_paths.is_empty() {
            dynamic.insert(
                c.override_key.clone(),
                Value::Object(c.cluster_values.clone()),
            );
            for path in &c.dynamic_paths {
                dynamic_keys.push(format!("{}.{}", c.override_key, path.join(".")));
            }
        }
    }
    tree.insert("values.yaml", values_file(&dynamic));
    for (wave, f) in folders.iter().enumerate() {
        let vendored = match (f.kind, vendor.as_deref()) {
            (FolderKind::Upstream, Some(v)) => Some(v.chart(f.component.name())?.0),
            _ => None,
        };
        tree.insert(
            format!("templates/{}.yaml", f.name),
            application(f, wave, vendored),
        );
    }
    tree.insert("templates/aicr-stack.yaml", AICR_STACK);
    let ctx = json!({"version": options.tool_version, "dynamic": dynamic_keys});
    tree.insert(
        "README.md",
        templates::render("README-argocd-helm.md", &ctx)?,
    );
    Ok(tree)
}

/// The chart version: the recipe version without a leading `v` when that
/// is valid SemVer, else `0.1.0` (Helm rejects anything else).
pub fn chart_version(recipe_version: &str) -> String {
    let v = recipe_version.strip_prefix('v').unwrap_or(recipe_version);
    if is_semver(v) {
        v.to_string()
    } else {
        "0.1.0".to_string()
    }
}

/// `MAJOR.MINOR.PATCH[-pre][+build]` with numeric cores.
fn is_semver(v: &str) -> bool {
    let (rest, build) = match v.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let ident_ok = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && pre.is_none_or(ident_ok)
        && build.is_none_or(ident_ok)
}

/// One folder's Application as a chart template (keys sorted, 4-space
/// indentation, as the reference re-marshals them).
fn application(f: &Folder<'_>, wave: usize, vendored: Option<&VendoredChart>) -> String {
    let key = &f.component.override_key;
    let mut out = String::new();
    let _ = write!(
        out,
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n    annotations:\n        argocd.argoproj.io/sync-wave: \"{wave}\"\n    name: {}\n    namespace: argocd\nspec:\n    destination:\n        namespace: {}\n        server: https://kubernetes.default.svc\n    project: default\n    source:\n",
        f.name,
        f.namespace()
    );
    match (f.kind, vendored) {
        (FolderKind::Upstream, Some(record)) => {
            // The folder is a wrapper chart: the vendored chart's values
            // go under its name.
            let _ = write!(
                out,
                "        helm:\n            values: |-\n                {{{{- $static := (.Files.Get \"static/{}.yaml\") | fromYaml | default dict -}}}}\n                {{{{- $dynamic := index .Values \"{key}\" | default dict -}}}}\n                {{{{- dict \"{}\" (mustMergeOverwrite $static $dynamic) | toYaml | nindent 16 }}}}\n        path: {}\n        repoURL: '{REPO_REQUIRED}'\n        targetRevision: '{{{{ .Values.targetRevision | default .Chart.Version }}}}'\n",
                f.component.name(),
                record.chart,
                f.dir()
            );
        }
        (FolderKind::Upstream, None) => {
            let (url, version) = chart_source(f);
            let _ = write!(
                out,
                "        chart: {}\n        helm:\n            values: |-\n                {{{{- $static := (.Files.Get \"static/{}.yaml\") | fromYaml | default dict -}}}}\n                {{{{- $dynamic := index .Values \"{key}\" | default dict -}}}}\n                {{{{- mustMergeOverwrite $static $dynamic | toYaml | nindent 16 }}}}\n        repoURL: {url}\n        targetRevision: {version}\n",
                f.component.resolved.chart,
                f.component.name(),
            );
        }
        (FolderKind::LocalChart, _) => {
            let _ = write!(
                out,
                "        helm:\n            values: |-\n                {{{{- $dynamic := index .Values \"{key}\" | default dict -}}}}\n                {{{{- toYaml $dynamic | nindent 16 }}}}\n        path: {}\n        repoURL: '{REPO_REQUIRED}'\n        targetRevision: '{{{{ .Values.targetRevision | default .Chart.Version }}}}'\n",
                f.dir()
            );
        }
    }
    out.push_str("    syncPolicy:\n        automated:\n            prune: true\n            selfHeal: true\n        syncOptions:\n            - CreateNamespace=true\n            - ServerSideApply=true\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_versions_are_always_semver() {
        assert_eq!(chart_version("dev"), "0.1.0");
        assert_eq!(chart_version(""), "0.1.0");
        assert_eq!(chart_version("v1.2.3"), "1.2.3");
        assert_eq!(chart_version("v1.2.3-rc.1+g1"), "1.2.3-rc.1+g1");
        assert_eq!(chart_version("1.02.3"), "0.1.0");
        assert_eq!(chart_version("v0.1"), "0.1.0");
    }
}
