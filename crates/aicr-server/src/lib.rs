//! `aicrd`: the AICR REST API over the facade ([`aicr::Client`]).
//!
//! Stateless by design: the catalog is parsed once and only read; the
//! memo of rendered recipes is keyed by parsed criteria and holds bytes
//! any request may share. The only mutable state is the rate limiter, the
//! metrics and the ready flag, so replicas behind a Kubernetes Service
//! scale without coordination.
//!
//! Every handler translates HTTP to a facade call and back; the rules
//! (criteria parsing, document shapes, error codes and their statuses)
//! live in the library crates.
//!
//! Logs are `tracing` events (`request completed`, `request failed`); this
//! library installs no subscriber, the `aicrd` binary does.

mod allow;
mod envelope;
mod error;
mod handlers;
mod limit;
mod metrics;
mod openapi;
mod time;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aicr::{Client, Criteria};
use axum::body::Bytes;

pub use allow::Allowlists;

/// The settings of one server process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Requests per second of the global token bucket; 0 disables it.
    pub rate_limit: f64,
    /// Bucket size.
    pub rate_burst: u32,
    /// Deadline of one request, handler included.
    pub request_timeout: Duration,
    /// Emit one `tracing` event per request, the access log (`aicrd`
    /// writes events to stderr as JSON lines).
    pub access_log: bool,
    /// Criteria values requests may name.
    pub allow: Allowlists,
}

impl Default for Config {
    /// The reference's settings: 100 requests/s, burst 200, 30 s.
    fn default() -> Self {
        Config {
            rate_limit: 100.0,
            rate_burst: 200,
            request_timeout: Duration::from_secs(30),
            access_log: true,
            allow: Allowlists::default(),
        }
    }
}

/// Most rendered recipes kept. The criteria space is finite but for the
/// node count; past this many, recipes are rendered per request.
const MEMO_ENTRIES: usize = 4096;

/// What every request shares.
pub struct Server {
    client: Client,
    config: Config,
    limiter: Option<limit::TokenBucket>,
    metrics: metrics::Metrics,
    ready: AtomicBool,
    /// Rendered `GET /v1/recipe` bodies by criteria.
    recipes: Mutex<HashMap<Criteria, Bytes>>,
}

impl Server {
    /// A server over `client`, not ready until [`serve`] starts listening.
    pub fn new(client: Client, config: Config) -> Arc<Self> {
        let limiter = (config.rate_limit > 0.0)
            .then(|| limit::TokenBucket::new(config.rate_limit, config.rate_burst));
        Arc::new(Server {
            client,
            config,
            limiter,
            metrics: metrics::Metrics::default(),
            ready: AtomicBool::new(false),
            recipes: Mutex::new(HashMap::new()),
        })
    }
}

/// The OpenAPI 3.1 document of the API, as served at
/// `GET /v1/openapi.json` and committed as `schemas/aicrd.openapi.json`.
pub fn openapi() -> String {
    openapi::text()
}

/// The routes and middleware of `aicrd`.
pub fn router(server: Arc<Server>) -> axum::Router {
    handlers::routes(server)
}

/// Serves on `listener` until `shutdown` completes, then stops accepting,
/// reports not ready and waits up to `drain` for requests in flight.
/// Exceeding `drain` is an error (the process should exit non-zero).
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: Arc<Server>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    use std::sync::atomic::Ordering;
    let app = router(server.clone());
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let flag = server.clone();
    let signal = async move {
        shutdown.await;
        flag.ready.store(false, Ordering::SeqCst);
        let _ = stopping_tx.send(());
    };
    server.ready.store(true, Ordering::SeqCst);
    let serving = axum::serve(listener, app).with_graceful_shutdown(signal);
    let serving = tokio::spawn(async move { serving.await });
    tokio::pin!(serving);
    tokio::select! {
        done = &mut serving => return done.map_err(std::io::Error::other)?,
        _ = stopping_rx => {}
    }
    match tokio::time::timeout(drain, serving).await {
        Ok(done) => done.map_err(std::io::Error::other)?,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "requests still in flight after the shutdown deadline of {} s",
                drain.as_secs()
            ),
        )),
    }
}
