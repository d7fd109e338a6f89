//! Downloading the Helm charts a bundle vendors (`--vendor-charts`), with
//! no `helm` binary: the I/O half of [`aicr_bundle::vendor`].
//!
//! Classic repositories: each distinct repository's `index.yaml` is
//! downloaded once, each chart's entry resolved in it, and its archive
//! downloaded and checked against the entry's digest. Downloads run
//! concurrently (at most [`ChartFetch::concurrency`] at once), each within
//! [`ChartFetch::timeout`], retried with exponential backoff after a
//! timeout, an unreachable server or a 5xx answer. The first failure in
//! recipe order is the error, so nothing is rendered or written.
//!
//! OCI registries (`oci://<registry>/<path>`, as `helm push` stores
//! charts): the chart's manifest at `<path>/<chart>:<version>` is read and
//! its one chart layer downloaded and checked against the digest the
//! manifest gives, with the same concurrency, timeout and retries, over
//! the registry client of `crate::oci` (credentials from the Docker
//! config, as `helm registry login` leaves them).

use std::time::Duration;

use aicr_bundle::FetchedCharts;
use aicr_bundle::vendor::{
    ChartIndex, ChartRequest, MAX_CHART_BYTES, MAX_INDEX_BYTES, ResolvedChart,
};
use aicr_core::{Code, Error, Result};
use futures_util::stream::{self, StreamExt};

/// An archive downloaded, with the index entry it must match.
type Pulled = (ResolvedChart, Vec<u8>);

/// How charts are downloaded.
#[derive(Debug, Clone)]
pub struct ChartFetch {
    /// Deadline of one download attempt.
    pub timeout: Duration,
    /// Attempts per download (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt; doubled before each later one.
    pub backoff: Duration,
    /// Downloads in flight at once.
    pub concurrency: usize,
    /// Called after each finished download with how many are done, how
    /// many there are, and a line naming the chart (the CLI draws a bar on
    /// a terminal and prints the lines otherwise).
    pub progress: Option<fn(usize, usize, &str)>,
    /// Transport and credentials for charts in OCI registries.
    pub registry: crate::oci::RegistryOptions,
}

impl Default for ChartFetch {
    fn default() -> Self {
        ChartFetch {
            timeout: crate::http::TIMEOUT,
            attempts: 3,
            backoff: Duration::from_millis(500),
            concurrency: 4,
            progress: None,
            registry: crate::oci::RegistryOptions::default(),
        }
    }
}

/// Downloads every chart of `requests` (see the module docs).
pub async fn fetch(requests: &[ChartRequest], settings: &ChartFetch) -> Result<FetchedCharts> {
    let mut charts = FetchedCharts::default();
    if requests.is_empty() {
        return Ok(charts);
    }
    let concurrency = settings.concurrency.max(1);
    let mut repos: Vec<&str> = requests
        .iter()
        .filter(|r| !r.is_oci())
        .map(|r| r.repository.as_str())
        .collect();
    repos.sort_unstable();
    repos.dedup();
    let indexes: Vec<(&str, Result<ChartIndex>)> = stream::iter(repos)
        .map(|repo| async move { (repo, fetch_index(repo, settings).await) })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let total = requests.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut pulled: Vec<(usize, Result<Pulled>)> = stream::iter(requests.iter().enumerate())
        .map(|(i, request)| {
            let index = indexes
                .iter()
                .find(|(repo, _)| *repo == request.repository)
                .map(|(_, index)| index);
            let done = &done;
            async move {
                let result = match index {
                    _ if request.is_oci() => pull_oci(request, settings).await,
                    Some(Ok(index)) => pull_classic(request, index, settings).await,
                    Some(Err(e)) => Err(e.clone()),
                    None => Err(Error::new(
                        Code::Internal,
                        "vendor-charts: index not fetched",
                    )),
                };
                if let (Some(progress), Ok((resolved, bytes))) = (settings.progress, &result) {
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    progress(
                        n,
                        total,
                        &format!(
                            "[{n}/{total}] fetched {} {} ({} KiB)",
                            request.chart,
                            resolved.version,
                            bytes.len().div_ceil(1024)
                        ),
                    );
                }
                (i, result)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    pulled.sort_by_key(|(i, _)| *i);
    for ((_, result), request) in pulled.into_iter().zip(requests) {
        let (resolved, bytes) = result.map_err(|e| {
            e.context(format!(
                "vendoring the chart {} {} of component {:?} from {}",
                request.chart,
                request.version,
                request.component,
                aicr_core::error::escape(&request.repository)
            ))
        })?;
        charts.add(request, &resolved, bytes)?;
    }
    Ok(charts)
}

async fn fetch_index(repo: &str, settings: &ChartFetch) -> Result<ChartIndex> {
    let url = aicr_bundle::vendor::join_url(repo, "index.yaml");
    let bytes = get_retrying(&url, MAX_INDEX_BYTES, settings).await?;
    ChartIndex::parse(&bytes, &aicr_core::error::escape(&url))
}

/// A chart from a classic Helm repository whose index is `index`.
async fn pull_classic(
    request: &ChartRequest,
    index: &ChartIndex,
    settings: &ChartFetch,
) -> Result<Pulled> {
    let resolved = index.resolve(&request.repository, &request.chart, &request.version)?;
    let bytes = get_retrying(&resolved.url, MAX_CHART_BYTES, settings).await?;
    Ok((resolved, bytes))
}

/// A chart from an OCI registry: `<repository>/<chart>:<version>`, where
/// the tag is the version with `+` written `_` (OCI tags cannot hold `+`;
/// `helm push` does the same).
async fn pull_oci(request: &ChartRequest, settings: &ChartFetch) -> Result<Pulled> {
    let text = format!(
        "{}/{}:{}",
        request.repository.trim_end_matches('/'),
        request.chart,
        request.version.replace('+', "_")
    );
    let reference = crate::oci::OciReference::parse(&text)?;
    let (bytes, digest) = retrying(settings, || {
        crate::oci::pull_helm_chart(&settings.registry, &reference, MAX_CHART_BYTES)
    })
    .await?;
    let resolved = ResolvedChart {
        url: text,
        version: request.version.clone(),
        sha256: digest.trim_start_matches("sha256:").to_string(),
    };
    Ok((resolved, bytes))
}

/// [`crate::http::get_within`], retried after failures that may pass.
async fn get_retrying(url: &str, limit: u64, settings: &ChartFetch) -> Result<Vec<u8>> {
    retrying(settings, || {
        crate::http::get_within(url, limit, settings.timeout)
    })
    .await
}

/// `operation`, each attempt within the settings' timeout, retried with
/// backoff after failures that may pass.
async fn retrying<T, F, Fut>(settings: &ChartFetch, mut operation: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut wait = settings.backoff;
    let mut attempt = 1;
    loop {
        let result = match tokio::time::timeout(settings.timeout, operation()).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                Code::Timeout,
                format!(
                    "no complete answer within {} s",
                    settings.timeout.as_secs_f32()
                ),
            )),
        };
        match result {
            Err(e) if attempt < settings.attempts && retryable(&e) => {
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            Err(e) if attempt > 1 => {
                return Err(e.context(format!("after {attempt} attempts")));
            }
            result => return result,
        }
    }
}

/// A timeout, an unreachable server or a 5xx answer; not a 4xx, which
/// will not change.
fn retryable(e: &Error) -> bool {
    match e.code() {
        Code::Timeout => true,
        Code::ServiceUnavailable => !e.to_string().contains("the server answered 4"),
        _ => false,
    }
}
