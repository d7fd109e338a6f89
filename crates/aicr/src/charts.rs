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
//! OCI registries (`oci://`) are refused as not supported yet: the one
//! place to pull from one is [`pull_oci`].

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
    /// Called with one line per finished download (the CLI prints them on
    /// stderr).
    pub progress: Option<fn(&str)>,
}

impl Default for ChartFetch {
    fn default() -> Self {
        ChartFetch {
            timeout: crate::http::TIMEOUT,
            attempts: 3,
            backoff: Duration::from_millis(500),
            concurrency: 4,
            progress: None,
        }
    }
}

/// Downloads every chart of `requests` (see the module docs).
pub async fn fetch(requests: &[ChartRequest], settings: &ChartFetch) -> Result<FetchedCharts> {
    let mut charts = FetchedCharts::default();
    if requests.is_empty() {
        return Ok(charts);
    }
    // Refuse what cannot be fetched before downloading anything.
    for r in requests.iter().filter(|r| r.is_oci()) {
        pull_oci(r)?;
    }
    let concurrency = settings.concurrency.max(1);
    let mut repos: Vec<&str> = requests.iter().map(|r| r.repository.as_str()).collect();
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
                    Some(Ok(index)) => pull_classic(request, index, settings).await,
                    Some(Err(e)) => Err(e.clone()),
                    None => Err(Error::new(
                        Code::Internal,
                        "vendor-charts: index not fetched",
                    )),
                };
                if let (Some(progress), Ok((resolved, bytes))) = (settings.progress, &result) {
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    progress(&format!(
                        "[{n}/{total}] fetched {} {} ({} KiB)",
                        request.chart,
                        resolved.version,
                        bytes.len().div_ceil(1024)
                    ));
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

/// A chart from an OCI registry. Not supported yet: the registry client
/// lands separately; when it does, this resolves the manifest of
/// `<repository>/<chart>:<version>`, downloads the chart layer and returns
/// it with its layer digest, and `fetch` calls it instead of refusing.
fn pull_oci(request: &ChartRequest) -> Result<Pulled> {
    Err(Error::invalid(format!(
        "vendor-charts: component {:?} takes its chart from the OCI registry {}, and vendoring charts from OCI registries is not supported yet; bundle without --vendor-charts",
        request.component,
        aicr_core::error::escape(&request.repository)
    )))
}

/// [`crate::http::get_within`], retried after failures that may pass.
async fn get_retrying(url: &str, limit: u64, settings: &ChartFetch) -> Result<Vec<u8>> {
    let mut wait = settings.backoff;
    let mut attempt = 1;
    loop {
        match crate::http::get_within(url, limit, settings.timeout).await {
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
