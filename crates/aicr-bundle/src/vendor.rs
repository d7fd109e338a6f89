//! `--vendor-charts`: the pure half of putting every Helm chart a recipe
//! names into the bundle, so it installs with no chart repository in reach.
//!
//! The facade (`aicr`) does the I/O: it asks [`charts_to_vendor`] what to
//! fetch, downloads each repository's `index.yaml`, finds the entry with
//! [`ChartIndex::resolve`], downloads the archive and hands the bytes to
//! [`FetchedCharts::add`], which checks them against the index's digest.
//! The deployers then read the archives from [`FetchedCharts`] and write
//! them into the tree; [`VendoredChart`] records what went where, for
//! provenance and a bill of materials.
//!
//! Layout: `charts/<chart>-<version>.tgz` at the bundle root for helm,
//! helmfile and flux, which install a packaged chart from a path. Argo CD
//! renders only chart *directories* from git, so argocd and argocd-helm
//! put the archive inside a wrapper chart instead:
//! `NNN-<name>/charts/<chart>-<version>.tgz` beside a `Chart.yaml` that
//! declares it as a dependency with an empty repository (Helm resolves it
//! from the adjacent `charts/`, no `helm dependency build`), and values
//! nested under the chart's name (how a parent chart passes values to a
//! subchart). This is the reference's wrapper layout.

use std::collections::BTreeMap;

use serde::Deserialize;

use aicr_core::error::{Code, Error, Result};

use crate::prepare::Prepared;

/// Largest `index.yaml` we read (large public repositories are tens of MB).
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;
/// Largest chart archive we download.
pub const MAX_CHART_BYTES: u64 = 64 * 1024 * 1024;

/// One chart to fetch, as the recipe names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRequest {
    /// The component whose chart this is.
    pub component: String,
    /// Chart name in its repository.
    pub chart: String,
    /// Version as the recipe writes it (a leading `v` is allowed).
    pub version: String,
    /// Repository URL: `http(s)://...` or `oci://...`.
    pub repository: String,
}

impl ChartRequest {
    /// True when the chart lives in an OCI registry.
    pub fn is_oci(&self) -> bool {
        crate::localformat::is_oci(&self.repository)
    }
}

/// The charts of `prepared` to vendor, in deployment order: every enabled
/// component with a chart repository. Names and versions must be plain
/// tokens: they become file names.
pub fn charts_to_vendor(prepared: &Prepared) -> Result<Vec<ChartRequest>> {
    let mut out = Vec::new();
    for c in &prepared.components {
        if !c.has_source() || c.is_kustomize() {
            continue;
        }
        let r = &c.resolved;
        let chart = if r.chart.is_empty() {
            &r.name
        } else {
            &r.chart
        };
        for (what, value) in [("chart name", chart), ("chart version", &r.version)] {
            if !is_file_token(value) {
                return Err(Error::invalid(format!(
                    "vendor-charts: component {:?} has {what} {:?}, which must start with a letter or digit and hold only letters, digits and ._+-",
                    c.name(),
                    aicr_core::error::escape(value)
                )));
            }
        }
        out.push(ChartRequest {
            component: c.name().to_string(),
            chart: chart.clone(),
            version: r.version.clone(),
            repository: r.source.clone(),
        });
    }
    Ok(out)
}

fn is_file_token(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
}

/// A classic Helm repository's `index.yaml`: only what vendoring reads.
#[derive(Debug, Deserialize)]
pub struct ChartIndex {
    #[serde(default)]
    entries: BTreeMap<String, Vec<IndexEntry>>,
}

#[derive(Debug, Deserialize)]
struct IndexEntry {
    #[serde(default)]
    version: String,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    digest: String,
}

/// Where a chart archive is and what its bytes must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedChart {
    /// Absolute archive URL.
    pub url: String,
    /// The chart version as the index writes it.
    pub version: String,
    /// Lowercase hex SHA-256 the archive must have.
    pub sha256: String,
}

impl ChartIndex {
    /// Parses `index.yaml` text; `origin` names it in errors.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self> {
        aicr_core::yaml::parse(bytes, origin)
    }

    /// The entry of `chart` at `version` (a leading `v` on either side is
    /// ignored, as Helm's version match does), its first URL resolved
    /// against `repo_url`. A missing chart or version is NOT_FOUND; an
    /// entry without URL or digest is INVALID_REQUEST (we do not vendor
    /// bytes we cannot check).
    pub fn resolve(&self, repo_url: &str, chart: &str, version: &str) -> Result<ResolvedChart> {
        let shown = aicr_core::error::escape(repo_url);
        let versions = self.entries.get(chart).ok_or_else(|| {
            Error::not_found(format!(
                "vendor-charts: chart {chart:?} is not in the repository {shown}"
            ))
        })?;
        let bare = |v: &str| v.strip_prefix('v').unwrap_or(v).to_string();
        let entry = versions
            .iter()
            .find(|e| e.version == version)
            .or_else(|| versions.iter().find(|e| bare(&e.version) == bare(version)))
            .ok_or_else(|| {
                Error::not_found(format!(
                    "vendor-charts: chart {chart:?} has no version {version:?} in the repository {shown}"
                ))
            })?;
        let first = entry.urls.first().ok_or_else(|| {
            Error::invalid(format!(
                "vendor-charts: {chart} {version} in {shown} lists no download URL"
            ))
        })?;
        let digest = entry
            .digest
            .strip_prefix("sha256:")
            .unwrap_or(&entry.digest);
        if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid(format!(
                "vendor-charts: {chart} {version} in {shown} has no SHA-256 digest, so its archive cannot be checked"
            )));
        }
        if !is_file_token(&entry.version) {
            return Err(Error::invalid(format!(
                "vendor-charts: {chart} in {shown} has version {:?}, which is not safe as a file name",
                aicr_core::error::escape(&entry.version)
            )));
        }
        Ok(ResolvedChart {
            url: join_url(repo_url, first),
            version: entry.version.clone(),
            sha256: digest.to_ascii_lowercase(),
        })
    }
}

/// `reference` resolved against the repository URL as Helm does: an
/// absolute URL stays, `/path` keeps the scheme and host, anything else is
/// relative to the repository directory (its URL with a trailing slash).
pub fn join_url(repo_url: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_string();
    }
    let (base, query) = match repo_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (repo_url, None),
    };
    let with_query = |path: String| match query {
        Some(q) if !path.contains('?') => format!("{path}?{q}"),
        _ => path,
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let origin = &base[..path_start];
    let mut segments: Vec<&str> = if let Some(abs) = reference.strip_prefix('/') {
        let _ = abs;
        Vec::new()
    } else {
        base[path_start..]
            .trim_end_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect()
    };
    for part in reference.trim_start_matches('/').split('/') {
        match part {
            "." | "" => {}
            ".." => {
                segments.pop();
            }
            p => segments.push(p),
        }
    }
    with_query(format!("{origin}/{}", segments.join("/")))
}

/// One chart archive placed in a bundle: the record a provenance file or a
/// bill of materials is written from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VendoredChart {
    /// The component that installs it.
    pub component: String,
    /// Chart name.
    pub chart: String,
    /// Chart version, as the repository's index writes it.
    pub version: String,
    /// The repository the recipe names.
    pub repository: String,
    /// The URL the archive was downloaded from.
    pub url: String,
    /// Lowercase hex SHA-256 of the archive.
    pub sha256: String,
    /// Where the archive is in the bundle (forward slashes); empty until a
    /// deployer places it.
    pub path: String,
}

impl VendoredChart {
    /// `<chart>-<version>.tgz`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.tgz", self.chart, self.version)
    }
}

/// Chart archives downloaded by the caller, by component, each checked
/// against its index digest on the way in.
#[derive(Debug, Clone, Default)]
pub struct FetchedCharts {
    charts: BTreeMap<String, (VendoredChart, Vec<u8>)>,
}

impl FetchedCharts {
    /// Adds the archive of `request`, downloaded from `resolved.url`; a
    /// SHA-256 other than the index's is UNAUTHORIZED.
    pub fn add(
        &mut self,
        request: &ChartRequest,
        resolved: &ResolvedChart,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let actual = crate::checksum::sha256_hex(&bytes);
        if actual != resolved.sha256 {
            return Err(Error::new(
                Code::Unauthorized,
                format!(
                    "vendor-charts: {} {} from {} has SHA-256 {actual}, but the repository index says {}",
                    request.chart,
                    resolved.version,
                    aicr_core::error::escape(&resolved.url),
                    resolved.sha256
                ),
            ));
        }
        let record = VendoredChart {
            component: request.component.clone(),
            chart: request.chart.clone(),
            version: resolved.version.clone(),
            repository: request.repository.clone(),
            url: resolved.url.clone(),
            sha256: actual,
            path: String::new(),
        };
        self.charts
            .insert(request.component.clone(), (record, bytes));
        Ok(())
    }

    /// The archive of `component`, when fetched.
    pub fn get(&self, component: &str) -> Option<(&VendoredChart, &[u8])> {
        self.charts.get(component).map(|(r, b)| (r, b.as_slice()))
    }

    /// Number of archives.
    pub fn len(&self) -> usize {
        self.charts.len()
    }

    /// True when nothing was fetched.
    pub fn is_empty(&self) -> bool {
        self.charts.is_empty()
    }
}

/// What a deployer needs while vendoring: the archives, and the records of
/// those it placed.
#[derive(Debug)]
pub struct Vendor<'a> {
    charts: &'a FetchedCharts,
    placed: Vec<VendoredChart>,
}

impl<'a> Vendor<'a> {
    /// Vendoring from `charts`.
    pub fn new(charts: &'a FetchedCharts) -> Self {
        Vendor {
            charts,
            placed: Vec::new(),
        }
    }

    /// The archive of `component`; INTERNAL when the caller did not fetch
    /// it (the facade fetches every chart [`charts_to_vendor`] lists).
    pub fn chart(&self, component: &str) -> Result<(&'a VendoredChart, &'a [u8])> {
        self.charts.get(component).ok_or_else(|| {
            Error::new(
                Code::Internal,
                format!("vendor-charts: the chart of component {component:?} was not fetched"),
            )
        })
    }

    /// Writes the archive of `component` to `path` in `tree` (once per
    /// path) and records it.
    pub fn place(
        &mut self,
        component: &str,
        path: String,
        tree: &mut crate::tree::FileTree,
    ) -> Result<()> {
        let (record, bytes) = self.chart(component)?;
        if tree.get(&path).is_none() {
            tree.insert(path.clone(), bytes.to_vec());
        }
        self.placed.push(VendoredChart {
            path,
            ..record.clone()
        });
        Ok(())
    }

    /// The records of every placed archive, by component.
    pub fn into_records(mut self) -> Vec<VendoredChart> {
        self.placed.sort_by(|a, b| a.component.cmp(&b.component));
        self.placed
    }
}

/// `charts/<chart>-<version>.tgz`: the bundle-root path of an archive.
pub fn root_path(record: &VendoredChart) -> String {
    format!("charts/{}", record.file_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "apiVersion: v1
entries:
  demo:
    - name: demo
      version: 1.2.0
      urls: [demo-1.2.0.tgz]
      digest: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      created: 2024-01-01T00:00:00Z
    - name: demo
      version: v2.0.0
      urls: [https://cdn.example.com/demo/demo-v2.0.0.tgz]
      digest: sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789
  nodigest:
    - version: 1.0.0
      urls: [x.tgz]
generated: 2024-01-01T00:00:00Z
";

    fn index() -> ChartIndex {
        ChartIndex::parse(INDEX.as_bytes(), "index.yaml").unwrap()
    }

    #[test]
    fn a_relative_url_resolves_against_the_repository_directory() {
        let r = index()
            .resolve("https://charts.example.com/stable", "demo", "1.2.0")
            .unwrap();
        assert_eq!(r.url, "https://charts.example.com/stable/demo-1.2.0.tgz");
        assert_eq!(r.version, "1.2.0");
        assert_eq!(&r.sha256[..4], "0123");
    }

    #[test]
    fn versions_match_with_or_without_a_leading_v() {
        let i = index();
        assert_eq!(
            i.resolve("https://r", "demo", "v1.2.0").unwrap().version,
            "1.2.0"
        );
        let r = i.resolve("https://r", "demo", "2.0.0").unwrap();
        assert_eq!(r.version, "v2.0.0");
        assert_eq!(r.url, "https://cdn.example.com/demo/demo-v2.0.0.tgz");
        assert!(
            r.sha256.starts_with("abcdef"),
            "digests compare in lowercase"
        );
    }

    #[test]
    fn a_missing_chart_or_version_is_not_found() {
        let i = index();
        let e = i.resolve("https://r", "other", "1.0.0").unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        let e = i.resolve("https://r", "demo", "9.9.9").unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        assert!(e.to_string().contains("no version \"9.9.9\""), "{e}");
    }

    #[test]
    fn an_entry_without_a_digest_is_refused() {
        let e = index()
            .resolve("https://r", "nodigest", "1.0.0")
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidRequest);
    }

    #[test]
    fn urls_join_as_helm_joins_them() {
        assert_eq!(join_url("http://h:8/a/b/", "c.tgz"), "http://h:8/a/b/c.tgz");
        assert_eq!(
            join_url("http://h:8/a/b", "./c.tgz"),
            "http://h:8/a/b/c.tgz"
        );
        assert_eq!(join_url("http://h:8/a/b", "../c.tgz"), "http://h:8/a/c.tgz");
        assert_eq!(join_url("http://h:8/a/b", "/x/c.tgz"), "http://h:8/x/c.tgz");
        assert_eq!(join_url("http://h:8", "c.tgz"), "http://h:8/c.tgz");
        assert_eq!(join_url("http://h/a", "https://o/c.tgz"), "https://o/c.tgz");
        assert_eq!(join_url("http://h/a?t=1", "c.tgz"), "http://h/a/c.tgz?t=1");
    }

    #[test]
    fn a_wrong_digest_is_unauthorized_and_a_right_one_is_recorded() {
        let request = ChartRequest {
            component: "demo".into(),
            chart: "demo".into(),
            version: "1.0.0".into(),
            repository: "https://r".into(),
        };
        let bytes = b"archive".to_vec();
        let mut resolved = ResolvedChart {
            url: "https://r/demo-1.0.0.tgz".into(),
            version: "1.0.0".into(),
            sha256: "0".repeat(64),
        };
        let mut charts = FetchedCharts::default();
        let e = charts.add(&request, &resolved, bytes.clone()).unwrap_err();
        assert_eq!(e.code(), Code::Unauthorized);
        assert!(charts.is_empty());
        resolved.sha256 = crate::checksum::sha256_hex(&bytes);
        charts.add(&request, &resolved, bytes).unwrap();
        let (record, _) = charts.get("demo").unwrap();
        assert_eq!(record.file_name(), "demo-1.0.0.tgz");
    }

    #[test]
    fn file_tokens_refuse_paths_and_flags() {
        for bad in ["", "-x", "../a", "a/b", "a b"] {
            assert!(!is_file_token(bad), "{bad}");
        }
        assert!(is_file_token("v1.2.3+build.7"));
    }
}
