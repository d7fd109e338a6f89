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
    let route: &'static str = match request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some("/") => "/",
        Some("/v1/recipe") => "/v1/recipe",
        Some("/v1/query") => "/v1/query",
        Some("/v1/bundle") => "/v1/bundle",
        _ => "other",
    };
    let path = request.uri().path().to_string();
    // A client's id is echoed as given when it is a UUID; otherwise ours.
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| uuid::Uuid::parse_str(v).is_ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());

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
        let body = error.body(&request_id, &crate::time::now_rfc3339());
        let mut rendered = (error.status(), body).into_response();
        let headers = rendered.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in &error.headers {
            headers.insert(name.clone(), value.clone());
        }
        if server.config.access_log
            && error.status().is_server_error()
            && let Some(cause) = &error.cause
        {
            log_line(&serde_json::json!({
                "level": "error", "msg": "request failed", "requestId": request_id,
                "code": error.code.as_str(), "error": cause.to_string(),
            }));
        }
        response = rendered;
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
        log_line(&serde_json::json!({
            "level": "info", "msg": "request completed", "requestId": request_id,
            "method": method, "path": path, "status": status,
            "durationMs": took.as_secs_f64() * 1000.0,
        }));
    }
    response
}

/// Runs the handler under the request deadline.
async fn run(server: &Server, request: Request, next: Next) -> Response {
    match tokio::time::timeout(server.config.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(Code::Timeout, "Request timed out")
            .detail(
                "timeout_seconds",
                server.config.request_timeout.as_secs_f64(),
            )
            .into_response(),
    }
}

/// One JSON line on stderr; a closed stderr loses the line, nothing else.
fn log_line(value: &serde_json::Value) {
    use std::io::Write;
    let mut line = value.to_string();
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
