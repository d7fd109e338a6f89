//! The middleware every API request passes through, in one function so
//! that its order is readable: request id, API version, rate limit,
//! deadline, error bodies, metrics and the access log.
//!
//! The access log is one `tracing` event per request (and one more for a
//! server error with a cause); the binary decides where events go.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use aicr::Code;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Server;
use crate::error::ApiError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const API_VERSION: HeaderName = HeaderName::from_static("x-api-version");

pub async fn envelope(State(server): State<Arc<Server>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    server.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    // Series are per route template, never per raw path.
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let route: &'static str = std::iter::once("/")
        .chain(crate::handlers::API_ROUTES)
        .chain([crate::handlers::MCP_ROUTE])
        .find(|r| Some(*r) == matched)
        .unwrap_or("other");
    let path = request.uri().path().to_string();
    // A client's id is echoed as given when it is a UUID; otherwise ours.
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| uuid::Uuid::parse_str(v).is_ok())
        .map(str::to_string)
        .unwrap_or_else(new_request_id);

    let mut rate_headers = Vec::new();
    let mut response = match &server.limiter {
        Some(bucket) => match bucket.take() {
            Some(left) => {
                let (rate, _) = bucket.limits();
                rate_headers.push(("x-ratelimit-limit", format!("{rate}")));
                rate_headers.push(("x-ratelimit-remaining", left.to_string()));
                rate_headers.push((
                    "x-ratelimit-reset",
                    (crate::time::unix_now() + 1).to_string(),
                ));
                run(&server, request, next).await
            }
            None => {
                server
                    .metrics
                    .rate_limit_rejects
                    .fetch_add(1, Ordering::Relaxed);
                let (rate, burst) = bucket.limits();
                ApiError::new(Code::RateLimitExceeded, "Rate limit exceeded")
                    .detail("limit", rate)
                    .detail("burst", burst)
                    .header(header::RETRY_AFTER, "1")
                    .into_response()
            }
        },
        None => run(&server, request, next).await,
    };

    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        if server.config.access_log
            && error.status().is_server_error()
            && let Some(cause) = &error.cause
        {
            // The cause a 500 does not send.
            tracing::error!(
                requestId = request_id.as_str(),
                code = error.code.as_str(),
                error = %cause,
                "request failed"
            );
        }
        response = error.render(&request_id);
    }
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, v);
    }
    headers.insert(API_VERSION, HeaderValue::from_static("v1"));
    for (name, value) in rate_headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }

    let status = response.status().as_u16();
    let took = started.elapsed();
    server.metrics.record(method, route, status, took);
    server.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    if server.config.access_log {
        tracing::info!(
            requestId = request_id.as_str(),
            method,
            path = path.as_str(),
            status,
            // Milliseconds, to the microsecond.
            durationMs = (took.as_secs_f64() * 1e6).round() / 1e3,
            "request completed"
        );
    }
    response
}

/// Runs the handler under the request deadline; a handler that panics
/// answers 500 instead of taking the connection (or, with `panic =
/// "abort"`, the process) with it.
async fn run(server: &Server, request: Request, next: Next) -> Response {
    let handler = CatchUnwind(Box::pin(next.run(request)));
    match tokio::time::timeout(server.config.request_timeout, handler).await {
        Ok(Ok(response)) => response,
        Ok(Err(())) => {
            server.metrics.panics.fetch_add(1, Ordering::Relaxed);
            ApiError::new(Code::Internal, "Internal server error").into_response()
        }
        Err(_) => ApiError::new(Code::Timeout, "Request timed out")
            .detail(
                "timeout_seconds",
                server.config.request_timeout.as_secs_f64(),
            )
            .into_response(),
    }
}

/// A future that turns a panic while polling into `Err(())`. Handlers
/// share nothing mutable but the metrics and the memo, whose locks
/// recover from poisoning, so serving on after a panic is sound.
struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(out)) => std::task::Poll::Ready(Ok(out)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    }
}

/// A fresh UUIDv4-shaped request id. Ids need to be unique, not secret:
/// a random seed per process (from the OS, once) and a counter, mixed by
/// splitmix64, instead of a system call per request.
pub fn new_request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::AtomicU64;
    static SEED: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default())
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let high = mix(seed ^ n);
    let low = mix(seed.rotate_left(32) ^ n ^ 0x5555_5555_5555_5555);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_le_bytes());
    bytes[8..].copy_from_slice(&low.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids: std::collections::BTreeSet<String> =
            (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 4, "{id}");
        }
    }

    fn boom() -> &'static str {
        panic!("a bug")
    }

    /// `routes` behind the envelope on a loopback port.
    async fn serve(
        server: &Arc<Server>,
        routes: axum::Router<Arc<Server>>,
    ) -> std::net::SocketAddr {
        let app = routes
            .layer(axum::middleware::from_fn_with_state(
                server.clone(),
                envelope,
            ))
            .with_state(server.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// The whole reply to a GET of `path`.
    async fn fetch(addr: std::net::SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        reply
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
        let server = Server::new(
            aicr::Client::embedded().unwrap(),
            crate::Config {
                access_log: false,
                ..crate::Config::default()
            },
        );
        let routes = axum::Router::new()
            .route("/boom", get(|| async { boom() }))
            .route("/fine", get(|| async { "fine" }));
        let addr = serve(&server, routes).await;
        let reply = fetch(addr, "/boom").await;
        assert!(reply.starts_with("HTTP/1.1 500"), "{reply}");
        assert!(reply.contains(r#""code":"INTERNAL""#), "{reply}");
        assert!(!reply.contains("a bug"), "a panic message is never sent");
        assert!(fetch(addr, "/fine").await.ends_with("fine"));
        assert_eq!(server.metrics.panics.load(Ordering::Relaxed), 1);
    }

    /// Where this thread's `tracing` events go in a test: JSON lines in
    /// memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_server_error_logs_its_cause_and_never_sends_it() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        // This thread only (the test runtime has one), not the process.
        let _scope = tracing::subscriber::set_default(subscriber);
        let server = Server::new(aicr::Client::embedded().unwrap(), crate::Config::default());
        let fail = || async {
            let cause = aicr::Error::new(Code::Internal, "disk full");
            Err::<(), _>(ApiError::from_error("Bundle generation failed", cause))
        };
        let addr = serve(&server, axum::Router::new().route("/fail", get(fail))).await;
        let reply = fetch(addr, "/fail").await;
        assert!(reply.starts_with("HTTP/1.1 500"), "{reply}");
        assert!(!reply.contains("disk full"), "{reply}");
        let id = reply
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .unwrap();

        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let [failed, completed] = &lines[..] else {
            panic!("two lines expected:\n{text}");
        };
        assert_eq!(failed["level"], "ERROR");
        assert_eq!(failed["message"], "request failed");
        assert_eq!(failed["requestId"], id);
        assert_eq!(failed["code"], "INTERNAL");
        assert!(failed["error"].as_str().unwrap().contains("disk full"));
        assert_eq!(completed["message"], "request completed");
        assert_eq!(completed["requestId"], id);
        assert_eq!(completed["path"], "/fail");
        assert_eq!(completed["status"], 500);
    }
}
