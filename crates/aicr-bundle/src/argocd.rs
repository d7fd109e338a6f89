//! `--deployer argocd`: the numbered folders without scripts, one Argo CD
//! `application.yaml` per folder (sync wave = folder position) and an
//! app-of-apps parent.

use std::fmt::Write as _;

use serde_json::json;

use aicr_core::error::{Error, Result};

use crate::helm::folder_rows;
use crate::localformat::{self, Folder, FolderKind, Scripts, is_oci, oci_chart_ref};
use crate::options::BundleOptions;
use crate::prepare::Prepared;
use crate::templates;
use crate::tree::FileTree;
use crate::vendor::Vendor;
use crate::yamlout::yaml_single_quote;

/// Repository used when `--repo` is not given.
pub const PLACEHOLDER_REPO: &str = "https://github.com/YOUR-ORG/YOUR-REPO.git";

/// Branch the Applications track.
pub const DEFAULT_REVISION: &str = "main";

/// Rejects `--dynamic`, which plain Argo CD Applications cannot express.
pub fn check_no_dynamic(prepared: &Prepared) -> Result<()> {
    match prepared
        .components
        .iter()
        .find(|c| !c.dynamic_paths.is_empty())
    {
        Some(c) => Err(Error::invalid(format!(
            "DynamicValues is not supported with the argocd deployer (component {:?} has {} paths); use the argocd-helm deployer for install-time values",
            c.name(),
            c.dynamic_paths.len()
        ))),
        None => Ok(()),
    }
}

/// Builds the argocd bundle.
pub fn generate(
    prepared: &Prepared,
    options: &BundleOptions,
    vendor: Option<&mut Vendor<'_>>,
) -> Result<FileTree> {
    check_no_dynamic(prepared)?;
    let folders = localformat::plan(prepared)?;
    let repo = repo_url(options);
    // A pushed tag is quoted (a tag such as `1.0` would read as a number);
    // the default stays as the reference writes it.
    let (revision, revision_yaml) = match &options.target_revision {
        Some(tag) => (tag.as_str(), yaml_single_quote(tag)),
        None => (DEFAULT_REVISION, DEFAULT_REVISION.to_string()),
    };
    let mut tree = FileTree::new();
    let vendored = vendor.is_some();
    localformat::write(&folders, &mut tree, Scripts::Omitted, vendor)?;
    for (wave, f) in folders.iter().enumerate() {
        tree.insert(
            format!("{}/application.yaml", f.dir()),
            application(f, wave, repo, &revision_yaml, vendored),
        );
    }
    tree.insert("app-of-apps.yaml", app_of_apps(repo, &revision_yaml));
    let ctx = json!({
        "version": options.tool_version,
        "folders": folder_rows(&folders),
        "repo": repo,
        "revision": revision,
    });
    tree.insert("README.md", templates::render("README-argocd.md", &ctx)?);
    Ok(tree)
}

/// `--repo`, or the placeholder.
pub fn repo_url(options: &BundleOptions) -> &str {
    options
        .repo
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(PLACEHOLDER_REPO)
}

/// Chart coordinates as Argo CD wants them: (repoURL, targetRevision).
/// OCI charts name the chart in the URL and keep the `v` of the version.
pub fn chart_source(f: &Folder<'_>) -> (String, String) {
    let r = &f.component.resolved;
    if is_oci(&r.source) {
        (oci_chart_ref(&r.source, &r.chart), r.version.clone())
    } else {
        let version = r.version.strip_prefix('v').unwrap_or(&r.version);
        (r.source.clone(), version.to_string())
    }
}

const SYNC_POLICY: &str = "  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
      # Server-side apply on every Application: some charts ship CRDs larger
      # than the 262144-byte limit of the last-applied annotation that
      # client-side apply writes, and one sync strategy for the whole bundle
      # is easier to reason about than a per-Application choice.
      - ServerSideApply=true
";

/// One folder's Application. A `vendored` upstream folder is a wrapper
/// chart in the GitOps repository, like a local chart.
pub fn application(
    f: &Folder<'_>,
    wave: usize,
    repo: &str,
    revision: &str,
    vendored: bool,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {}\n  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\nspec:\n  project: default\n",
        f.name
    );
    let quoted_repo = yaml_single_quote(repo);
    match f.kind {
        FolderKind::Upstream if !vendored => {
            let (url, version) = chart_source(f);
            let _ = write!(
                out,
                "  sources:\n    - repoURL: {url}\n      chart: {}\n      targetRevision: {}\n      helm:\n        valueFiles:\n          - $values/{}/values.yaml\n    - repoURL: {quoted_repo}\n      targetRevision: {revision}\n      ref: values\n",
                f.component.resolved.chart,
                version,
                f.dir()
            );
        }
        FolderKind::Upstream | FolderKind::LocalChart => {
            let _ = write!(
                out,
                "  source:\n    repoURL: {quoted_repo}\n    targetRevision: {revision}\n    path: {}\n",
                f.dir()
            );
        }
    }
    let _ = write!(
        out,
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: {}\n{SYNC_POLICY}",
        f.namespace()
    );
    out
}

fn app_of_apps(repo: &str, revision: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: nvidia-stack
  namespace: argocd
spec:
  project: default
  source:
    repoURL: {repo}
    targetRevision: {revision}
    path: .
    directory:
      recurse: true
      include: '*/application.yaml'
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
"
    )
}
