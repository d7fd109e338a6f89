//! Everything that talks to the Kubernetes API server: finding a client
//! ([`discover`]), the reads the collectors need ([`fetch`]), snapshots and
//! recipes in ConfigMaps ([`configmap`]) and the snapshot agent Job
//! ([`agent`]).
//!
//! One client per process is the caller's job: build it once with
//! [`discover::discover_client`] and clone it (clones share a connection
//! pool). Failures are [`aicr_core::Error`]s with the reference's codes;
//! [`api_error`] is the one place that maps a `kube::Error` to a code.

pub mod agent;
pub mod configmap;
pub mod discover;
pub mod fetch;

use std::future::Future;
use std::time::Duration;

use aicr_core::{Code, Error};

pub use configmap::ConfigMapRef;
pub use discover::{Discovered, DiscoveryInputs, discover_client};

/// The HTTP status of an API error, when the server answered.
pub(crate) fn api_status(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// Whether the server answered 404.
pub(crate) fn is_not_found(err: &kube::Error) -> bool {
    api_status(err) == Some(404)
}

/// Whether the server answered 409 `AlreadyExists` (not a write conflict).
pub(crate) fn is_already_exists(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists")
}

/// Whether the request never got an answer (connection refused, reset,
/// DNS): the reference's "network error" class.
pub(crate) fn is_network(err: &kube::Error) -> bool {
    matches!(err, kube::Error::HyperError(_) | kube::Error::Service(_))
}

/// Failures worth another try: no answer at all, 429 and 5xx.
fn is_transient(err: &kube::Error) -> bool {
    is_network(err) || api_status(err).is_some_and(|c| c == 429 || c >= 500)
}

/// Maps a kube error to our code, with `what` as the message and the kube
/// error as the source: 401/403 UNAUTHORIZED, 404 NOT_FOUND, 409 CONFLICT,
/// 429 RATE_LIMIT_EXCEEDED, 504 TIMEOUT, other 5xx and no answer at all
/// SERVICE_UNAVAILABLE, anything else INTERNAL.
pub fn api_error(what: impl Into<String>, err: kube::Error) -> Error {
    let code = match api_status(&err) {
        Some(401 | 403) => Code::Unauthorized,
        Some(404) => Code::NotFound,
        Some(409) => Code::Conflict,
        Some(429) => Code::RateLimitExceeded,
        Some(504) => Code::Timeout,
        Some(500..) => Code::ServiceUnavailable,
        Some(_) => Code::Internal,
        None if is_network(&err) => Code::ServiceUnavailable,
        None => Code::Internal,
    };
    Error::new(code, what).with_source(err)
}

/// Attempts per request for transient failures.
pub const ATTEMPTS: u32 = 3;

/// Runs an idempotent request up to [`ATTEMPTS`] times while it fails
/// transiently, sleeping 100 ms, then 200 ms between tries. Short on
/// purpose: a blip is worth a retry, an outage is the caller's to report.
pub(crate) async fn retry<T, F, Fut>(mut request: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut backoff = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match request().await {
            Err(err) if attempt < ATTEMPTS && is_transient(&err) => {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Runs `work` with a deadline; past it, TIMEOUT "`what` timed out after …".
pub(crate) async fn with_timeout<T>(
    what: &str,
    limit: Duration,
    work: impl Future<Output = aicr_core::Result<T>>,
) -> aicr_core::Result<T> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(Error::new(
            Code::Timeout,
            format!("{what} timed out after {}s", limit.as_secs_f64()),
        ))
    })
}
