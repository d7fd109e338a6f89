//! The middleware every API request passes through, in one function so
//! that its order is readable: request id, API version, rate limit,
//! deadline, error bodies, metrics and the access log.

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
            log_line(
                serde_json::json!({
                    "level": "error", "msg": "request failed", "requestId": request_id,
                    "code": error.code.as_str(), "error": cause.to_string(),
                })
                .to_string(),
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
        log_line(access_line(&request_id, method, &path, status, took));
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

/// The access-log line of one request. Formatted by hand: it is written
/// for every request. The path is the only field a client chooses; it is
/// JSON-escaped (a request id is a UUID by then).
fn access_line(
    request_id: &str,
    method: &str,
    path: &str,
    status: u16,
    took: std::time::Duration,
) -> String {
    let path = serde_json::to_string(path).unwrap_or_default();
    format!(
        r#"{{"level":"info","msg":"request completed","requestId":"{request_id}","method":"{method}","path":{path},"status":{status},"durationMs":{:.3}}}"#,
        took.as_secs_f64() * 1000.0
    )
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

/// One JSON line for stderr. Lines go through a bounded channel to one
/// writer thread, so a request never waits on a system call for its log
/// line. The writer wakes for the first line after a quiet spell (an idle
/// server's log is up to date), then writes what has queued, flushes and
/// rests 20 ms; under load it writes in batches, and senders seldom have to
/// wake it. When the queue is full (stderr blocked), lines are dropped
/// rather than memory grown. A closed stderr loses lines, nothing else.
fn log_line(mut line: String) {
    use std::io::Write;
    use std::sync::OnceLock;
    use std::sync::mpsc::{SyncSender, sync_channel};
    static LOG: OnceLock<SyncSender<String>> = OnceLock::new();
    let sender = LOG.get_or_init(|| {
        let (tx, rx) = sync_channel::<String>(65_536);
        std::thread::spawn(move || {
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
            while let Ok(line) = rx.recv() {
                let _ = out.write_all(line.as_bytes());
                while let Ok(more) = rx.try_recv() {
                    let _ = out.write_all(more.as_bytes());
                }
                let _ = out.flush();
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        tx
    });
    line.push('\n');
    let _ = sender.try_send(line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn access_lines_are_json_whatever_the_path() {
        let line = access_line(
            "0b9f2d8e-3c4a-4f5e-9a6b-7c8d9e0f1a2b",
            "GET",
            "/a\"b\\c\n{}",
            200,
            std::time::Duration::from_micros(1500),
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["path"], "/a\"b\\c\n{}");
        assert_eq!(v["durationMs"], 1.5);
    }

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

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
        let server = Server::new(
            aicr::Client::embedded().unwrap(),
            crate::Config {
                access_log: false,
                ..crate::Config::default()
            },
        );
        let app = axum::Router::new()
            .route("/boom", get(|| async { boom() }))
            .route("/fine", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn_with_state(
                server.clone(),
                envelope,
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let get = |path: &'static str| async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let head = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut reply = String::new();
            stream.read_to_string(&mut reply).await.unwrap();
            reply
        };
        let reply = get("/boom").await;
        assert!(reply.starts_with("HTTP/1.1 500"), "{reply}");
        assert!(reply.contains(r#""code":"INTERNAL""#), "{reply}");
        assert!(!reply.contains("a bug"), "a panic message is never sent");
        assert!(get("/fine").await.ends_with("fine"));
        assert_eq!(server.metrics.panics.load(Ordering::Relaxed), 1);
    }
}
