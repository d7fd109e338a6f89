//! The numbered `NNN-<name>` folder layout shared by the helm, helmfile,
//! argocd and argocd-helm deployers.
//!
//! Components are walked in deployment order; each emits an optional
//! `-pre` local chart (pre manifests), its primary folder (an upstream
//! chart reference, or a local chart for manifest-only components) and an
//! optional `-post` local chart (manifests of a chart with a repository).
//! The running folder index drives numbering, script order, Argo sync
//! waves and the helmfile `needs` chain.

use serde_json::{Value, json};

use aicr_core::error::{Error, Result};
use aicr_core::model::Values;
use aicr_core::values::deep_merge;

use crate::prepare::{Component, Manifest, Prepared};
use crate::templates;
use crate::tree::FileTree;
use crate::vendor::{Vendor, VendoredChart};
use crate::yamlout::{shell_quote, values_file};

/// The most folders a bundle can number with three digits.
const MAX_FOLDERS: usize = 999;

/// What a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    /// Values for a chart pulled from its repository (no Chart.yaml).
    Upstream,
    /// A generated wrapper chart around rendered manifests.
    LocalChart,
}

/// One emitted folder.
#[derive(Debug, Clone)]
pub struct Folder<'a> {
    /// 1-based position in folder order.
    pub index: usize,
    /// Folder name without the number: `gpu-operator`, `gpu-operator-post`.
    pub name: String,
    /// The component the folder belongs to.
    pub component: &'a Component,
    /// Upstream reference or local chart.
    pub kind: FolderKind,
    /// Rendered templates of a local chart: (basename, text), sorted by
    /// source path.
    pub templates: Vec<(String, String)>,
}

impl Folder<'_> {
    /// `NNN-<name>`.
    pub fn dir(&self) -> String {
        format!("{:03}-{}", self.index, self.name)
    }

    /// True when a rendered template creates a Namespace, so Helm must not.
    pub fn creates_namespace(&self) -> bool {
        self.templates
            .iter()
            .any(|(_, text)| text.lines().any(|l| l.trim_end() == "kind: Namespace"))
    }

    /// The component's namespace.
    pub fn namespace(&self) -> &str {
        &self.component.resolved.namespace
    }
}

/// Plans the folders of a prepared recipe: names, kinds and rendered
/// templates, in folder order.
pub fn plan(prepared: &Prepared) -> Result<Vec<Folder<'_>>> {
    let names: Vec<&str> = prepared.components.iter().map(Component::name).collect();
    let mut folders = Vec::new();
    for c in &prepared.components {
        check_name(c.name())?;
        if c.is_kustomize() {
            if !c.manifests.is_empty() {
                return Err(Error::invalid(format!(
                    "component {:?} is a Kustomize component and cannot also have manifestFiles",
                    c.name()
                )));
            }
            return Err(Error::invalid(format!(
                "component {:?} is a Kustomize component: Kustomize builds are not supported by aicr-rs bundles yet",
                c.name()
            )));
        }
        if !c.pre_manifests.is_empty() {
            let name = suffixed(c, "-pre", &names)?;
            let templates = render_all(c, &c.pre_manifests)?;
            check_pre_namespace(c, &templates)?;
            folders.push(local(c, name, templates));
        }
        if c.has_source() {
            folders.push(Folder {
                index: 0,
                name: c.name().to_string(),
                component: c,
                kind: FolderKind::Upstream,
                templates: Vec::new(),
            });
            if !c.manifests.is_empty() {
                let name = suffixed(c, "-post", &names)?;
                folders.push(local(c, name, render_all(c, &c.manifests)?));
            }
        } else {
            folders.push(local(c, c.name().to_string(), render_all(c, &c.manifests)?));
        }
    }
    if folders.len() > MAX_FOLDERS {
        return Err(Error::invalid(format!(
            "bundle needs {} folders, more than the {MAX_FOLDERS} three-digit numbering allows",
            folders.len()
        )));
    }
    for (i, f) in folders.iter_mut().enumerate() {
        f.index = i + 1;
    }
    Ok(folders)
}

fn local<'a>(c: &'a Component, name: String, templates: Vec<(String, String)>) -> Folder<'a> {
    Folder {
        index: 0,
        name,
        component: c,
        kind: FolderKind::LocalChart,
        templates,
    }
}

/// `<name><suffix>`, unless that collides with another component's name.
fn suffixed(c: &Component, suffix: &str, names: &[&str]) -> Result<String> {
    let name = format!("{}{suffix}", c.name());
    if names.contains(&name.as_str()) {
        return Err(Error::invalid(format!(
            "component {:?} needs a folder named {name:?}, but a component of that name exists",
            c.name()
        )));
    }
    Ok(name)
}

/// Rejects names that would escape the bundle directory.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.contains(['/', '\\'])
        || name == "."
        || name.contains("..")
        || name.starts_with('-')
    {
        return Err(Error::invalid(format!(
            "component name {name:?} is not safe as a folder name"
        )));
    }
    Ok(())
}

/// A Namespace in pre manifests must be the component's own namespace.
fn check_pre_namespace(c: &Component, templates: &[(String, String)]) -> Result<()> {
    for (file, text) in templates {
        for doc in text.split("\n---") {
            if !doc.lines().any(|l| l.trim_end() == "kind: Namespace") {
                continue;
            }
            let parsed: std::result::Result<Value, _> = serde_saphyr::from_str(doc);
            let name = parsed.ok().and_then(|v| {
                v.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            if let Some(name) = name.filter(|n| *n != c.resolved.namespace) {
                return Err(Error::invalid(format!(
                    "component {:?}: pre manifest {file} creates Namespace {name:?}, but the component namespace is {:?}",
                    c.name(),
                    c.resolved.namespace
                )));
            }
        }
    }
    Ok(())
}

/// Renders manifests in source-path order, dropping those that render to
/// nothing; basenames must be unique.
fn render_all(c: &Component, manifests: &[Manifest]) -> Result<Vec<(String, String)>> {
    let mut sorted: Vec<&Manifest> = manifests.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let data = template_data(c);
    let mut out: Vec<(String, String)> = Vec::new();
    for m in sorted {
        let base = m.path.rsplit('/').next().unwrap_or(&m.path).to_string();
        if out.iter().any(|(b, _)| *b == base) {
            return Err(Error::invalid(format!(
                "component {:?}: two manifests share the file name {base:?}",
                c.name()
            )));
        }
        let rendered = crate::gotmpl::render(&m.text, &data)
            .map_err(|e| e.context(format!("rendering manifest {}", m.path)))?;
        let text = end_with_newline(&strip_hook_annotations(&rendered));
        if !is_blank_manifest(&text) {
            out.push((base, text));
        }
    }
    Ok(out)
}

/// `.Values`, `.Release` and `.Chart` for a component's manifests.
pub fn template_data(c: &Component) -> Value {
    let mut values: Values = c.values.clone();
    deep_merge(&mut values, &c.cluster_values);
    let r = &c.resolved;
    let chart = if r.chart.is_empty() {
        &r.name
    } else {
        &r.chart
    };
    let version = r.version.strip_prefix('v').unwrap_or(&r.version);
    let version = if version.is_empty() { "0.1.0" } else { version };
    json!({
        "Values": { r.name.clone(): Value::Object(values) },
        "Release": { "Namespace": r.namespace, "Service": "Helm" },
        "Chart": { "Name": chart, "Version": version },
    })
}

/// Ends the text with a newline without changing its data: a block
/// scalar that ran to the end of the text (`{{- end }}` trims the final
/// newline) gets the strip indicator, so its value stays as rendered.
fn end_with_newline(text: &str) -> String {
    if text.ends_with('\n') || text.is_empty() {
        return text.to_string();
    }
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut min_after = usize::MAX;
    for i in (0..lines.len()).rev() {
        let line = &lines[i];
        if line.trim().is_empty() {
            continue;
        }
        let indent = indent_of(line);
        if indent < min_after {
            let t = line.trim_end();
            for indicator in ["|", ">"] {
                if t.ends_with(&format!(" {indicator}")) || t.ends_with(&format!(":{indicator}")) {
                    let cut = t.len() - 1;
                    lines[i] = format!("{}{indicator}-", &t[..cut]);
                    return lines.join("\n") + "\n";
                }
            }
            if i + 1 < lines.len() || min_after != usize::MAX {
                break;
            }
        }
        min_after = min_after.min(indent);
    }
    format!("{text}\n")
}

/// True for text that holds nothing but comments, blank lines and `---`.
fn is_blank_manifest(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

fn is_hook_line(line: &str) -> bool {
    let t = line.trim_start().trim_start_matches(['"', '\'']);
    t.starts_with("helm.sh/hook")
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Removes Helm hook annotations (the manifests become plain chart
/// resources); an `annotations:` map left empty becomes `annotations: {}`.
pub fn strip_hook_annotations(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim_end().ends_with("annotations:") && line.trim() == "annotations:" {
            let own = indent_of(line);
            let mut j = i + 1;
            let mut kept = Vec::new();
            let mut removed = false;
            while j < lines.len() {
                let l = lines[j];
                let t = l.trim();
                if !t.is_empty() && indent_of(l) <= own && !t.starts_with('#') {
                    break;
                }
                if is_hook_line(l) {
                    removed = true;
                } else {
                    kept.push(l.to_string());
                }
                j += 1;
            }
            if removed {
                let has_entries = kept.iter().any(|l| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#')
                });
                if has_entries {
                    out.push(line.to_string());
                    out.extend(kept);
                } else {
                    out.push(format!("{}annotations: {{}}", &line[..own]));
                }
                i = j;
                continue;
            }
        }
        out.push(line.to_string());
        i += 1;
    }
    out.join("\n")
}

/// Which per-folder files a deployer keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripts {
    /// `install.sh`, `upstream.env` and `cluster-values.yaml` too.
    Included,
    /// Only values, Chart.yaml and templates (Argo CD).
    Omitted,
}

/// Writes every folder into `tree`. With `vendor`, upstream charts are
/// installed from the bundle's archives (see [`crate::vendor`]): from
/// `charts/` at the root when scripts are included (helm, helmfile), from
/// a wrapper chart in the folder otherwise (Argo CD).
pub fn write(
    folders: &[Folder<'_>],
    tree: &mut FileTree,
    scripts: Scripts,
    mut vendor: Option<&mut Vendor<'_>>,
) -> Result<()> {
    for f in folders {
        let dir = f.dir();
        let c = f.component;
        if let (FolderKind::Upstream, Some(vendor)) = (f.kind, vendor.as_deref_mut()) {
            write_vendored(f, tree, scripts, vendor)?;
            continue;
        }
        tree.insert(format!("{dir}/values.yaml"), values_file(&c.values));
        if scripts == Scripts::Included {
            tree.insert(
                format!("{dir}/cluster-values.yaml"),
                values_file(&c.cluster_values),
            );
        }
        match f.kind {
            FolderKind::Upstream => {
                if scripts == Scripts::Included {
                    tree.insert(format!("{dir}/upstream.env"), upstream_env(c));
                    let script = templates::render(
                        "install-upstream.sh",
                        json!({"release": f.name, "namespace": f.namespace()}),
                    )?;
                    tree.insert_executable(format!("{dir}/install.sh"), script);
                }
            }
            FolderKind::LocalChart => {
                tree.insert(format!("{dir}/Chart.yaml"), local_chart_yaml(f));
                for (base, text) in &f.templates {
                    tree.insert(format!("{dir}/templates/{base}"), text.clone());
                }
                if scripts == Scripts::Included {
                    let script = templates::render(
                        "install-local.sh",
                        json!({
                            "release": f.name,
                            "namespace": f.namespace(),
                            "create_namespace": !f.creates_namespace(),
                        }),
                    )?;
                    tree.insert_executable(format!("{dir}/install.sh"), script);
                }
            }
        }
    }
    Ok(())
}

/// An upstream folder whose chart is vendored.
fn write_vendored(
    f: &Folder<'_>,
    tree: &mut FileTree,
    scripts: Scripts,
    vendor: &mut Vendor<'_>,
) -> Result<()> {
    let dir = f.dir();
    let c = f.component;
    let (record, _) = vendor.chart(c.name())?;
    match scripts {
        Scripts::Included => {
            let path = crate::vendor::root_path(record);
            tree.insert(format!("{dir}/values.yaml"), values_file(&c.values));
            tree.insert(
                format!("{dir}/cluster-values.yaml"),
                values_file(&c.cluster_values),
            );
            tree.insert(
                format!("{dir}/upstream.env"),
                format!(
                    "CHART={}\nREPO=''\nVERSION={}\n",
                    shell_quote(&format!("../{path}")),
                    shell_quote(&record.version)
                ),
            );
            let script = templates::render(
                "install-vendored.sh",
                json!({"release": f.name, "namespace": f.namespace()}),
            )?;
            tree.insert_executable(format!("{dir}/install.sh"), script);
            vendor.place(c.name(), path, tree)
        }
        Scripts::Omitted => {
            // A subchart takes its values from under its name in the
            // parent's values.
            let mut nested = Values::new();
            nested.insert(record.chart.clone(), Value::Object(c.values.clone()));
            tree.insert(format!("{dir}/values.yaml"), values_file(&nested));
            tree.insert(format!("{dir}/Chart.yaml"), vendored_chart_yaml(f, record));
            vendor.place(
                c.name(),
                format!("{dir}/charts/{}", record.file_name()),
                tree,
            )
        }
    }
}

/// The wrapper Chart.yaml of a vendored chart: the archive beside it in
/// `charts/` satisfies the dependency (empty repository), so Helm and Argo
/// CD render it without `helm dependency build`.
fn vendored_chart_yaml(f: &Folder<'_>, record: &VendoredChart) -> String {
    format!(
        "{}\napiVersion: v2\nname: {}\ndescription: Generated wrapper chart vendoring {} {} for {}.\ntype: application\nversion: 0.1.0\nappVersion: \"0.1.0\"\ndependencies:\n  - name: {}\n    version: {}\n    repository: \"\"\n",
        templates::LICENSE_HEADER,
        f.name,
        record.chart,
        record.version,
        f.component.name(),
        record.chart,
        crate::yamlout::yaml_single_quote(&record.version),
    )
}

/// Chart coordinates for the install script: OCI charts are a full
/// reference with no repository.
fn upstream_env(c: &Component) -> String {
    let r = &c.resolved;
    let (chart, repo) = if is_oci(&r.source) {
        (oci_chart_ref(&r.source, &r.chart), String::new())
    } else {
        (r.chart.clone(), r.source.clone())
    };
    format!(
        "CHART={}\nREPO={}\nVERSION={}\n",
        shell_quote(&chart),
        shell_quote(&repo),
        shell_quote(&r.version)
    )
}

/// True for `oci://` chart sources.
pub fn is_oci(source: &str) -> bool {
    source.starts_with("oci://")
}

/// `<source>/<chart>` without a doubled slash.
pub fn oci_chart_ref(source: &str, chart: &str) -> String {
    format!("{}/{chart}", source.trim_end_matches('/'))
}

/// The wrapper Chart.yaml of a local-chart folder.
fn local_chart_yaml(f: &Folder<'_>) -> String {
    format!(
        "{}\napiVersion: v2\nname: {}\ndescription: Generated wrapper chart for {} local content.\ntype: application\nversion: 0.1.0\nappVersion: \"0.1.0\"\n",
        templates::LICENSE_HEADER,
        f.name,
        f.component.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_annotations_are_stripped_and_empty_maps_kept() {
        let text = "metadata:\n  annotations:\n    # why\n    \"helm.sh/hook\": post-install\n    helm.sh/hook-weight: \"1\"\n  labels:\n    a: b\n";
        assert_eq!(
            strip_hook_annotations(text),
            "metadata:\n  annotations: {}\n  labels:\n    a: b\n"
        );
        let text = "metadata:\n  annotations:\n    helm.sh/hook: x\n    keep: me\n  name: n";
        assert_eq!(
            strip_hook_annotations(text),
            "metadata:\n  annotations:\n    keep: me\n  name: n"
        );
    }

    #[test]
    fn a_trailing_block_scalar_keeps_its_value_when_a_newline_is_added() {
        assert_eq!(
            end_with_newline("data:\n  a.conf: |\n    x=1\n    y=2"),
            "data:\n  a.conf: |-\n    x=1\n    y=2\n"
        );
        assert_eq!(end_with_newline("a: b"), "a: b\n");
        assert_eq!(end_with_newline("a: |\n  x\nb: c"), "a: |\n  x\nb: c\n");
        assert_eq!(end_with_newline("a: b\n"), "a: b\n");
    }

    #[test]
    fn comment_only_manifests_count_as_blank() {
        assert!(is_blank_manifest("# a\n\n---\n  # b\n"));
        assert!(!is_blank_manifest("# a\nkind: X\n"));
    }

    #[test]
    fn unsafe_names_are_rejected() {
        for bad in ["../x", "a/b", "..", ""] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name("gpu-operator").is_ok());
    }
}
