//! Routes and handlers: HTTP in, a facade call, HTTP out. Each API
//! handler carries its entry of the OpenAPI document (`#[utoipa::path]`,
//! collected in `openapi.rs`), so a change to one is seen beside the other.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aicr::{Code, CriteriaFlags};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::openapi::{
    BadRequest, BundleParams, Internal, NotFound, QueryRequest, RateLimited, RecipeCriteria,
    RecipeResult, TimedOut, TooLarge, Unavailable, ZipArchive,
};
use crate::{MEMO_ENTRIES, Server};

/// Largest body of `POST /v1/recipe` and `POST /v1/query`.
pub(crate) const CRITERIA_BODY_LIMIT: usize = 1 << 20;

/// The API routes, in the order `GET /` lists them.
pub(crate) const API_ROUTES: [&str; 4] =
    ["/v1/bundle", "/v1/openapi.json", "/v1/query", "/v1/recipe"];

/// Where the MCP server's streamable HTTP transport is mounted. Not an
/// API route: MCP is JSON-RPC with its own schema (the tool list), so it
/// stays out of `GET /` and the OpenAPI document.
pub(crate) const MCP_ROUTE: &str = "/mcp";

pub fn routes(server: Arc<Server>) -> Router {
    // Stateless, so any replica answers any request; any Host, because a
    // cluster Service or ingress names the server, not loopback.
    // The operator's allowlists hold for the tools as for the REST API.
    let allow = server.config.allow.clone();
    let mcp = aicr_mcp::http_service(
        aicr_mcp::AicrMcp::new(server.client.clone(), aicr::CatalogSource::Embedded)
            .with_policy(move |criteria| allow.check_criteria(criteria)),
        aicr_mcp::Hosts::Any,
    );
    let api = Router::new()
        .route("/", only(get(root), &["GET"]))
        .route_service(MCP_ROUTE, mcp)
        .route(
            "/v1/recipe",
            only(get(recipe_get).post(recipe_post), &["GET", "POST"]),
        )
        .route(
            "/v1/query",
            only(get(query_get).post(query_post), &["GET", "POST"]),
        )
        .route("/v1/bundle", only(post(bundle), &["POST"]))
        .route("/v1/openapi.json", only(get(openapi), &["GET"]))
        .fallback(unknown_path)
        .layer(axum::middleware::from_fn_with_state(
            server.clone(),
            crate::envelope::envelope,
        ));
    // Probes and metrics stay outside the envelope: no rate limit may
    // make a kubelet think the pod is dead.
    let probes = Router::new()
        .route("/health", only(get(health), &["GET"]))
        .route("/ready", only(get(ready), &["GET"]))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::map_response(render_bare));
    probes.merge(api).with_state(server)
}

/// `route` answering any other method with 405, an `Allow` header and a
/// typed body.
fn only(
    route: MethodRouter<Arc<Server>>,
    allowed: &'static [&'static str],
) -> MethodRouter<Arc<Server>> {
    route.fallback(move |method: Method| async move {
        let error = ApiError::new(Code::MethodNotAllowed, "Method not allowed")
            .detail("method", method.as_str())
            .header(header::ALLOW, &allowed.join(", "));
        if allowed.len() > 1 {
            error.detail("allowed", allowed.to_vec())
        } else {
            error
        }
    })
}

/// Renders an error of a route without the envelope, with a fresh request
/// id (the reference does the same).
async fn render_bare(mut response: Response) -> Response {
    match response.extensions_mut().remove::<ApiError>() {
        Some(error) => error.render(&crate::envelope::new_request_id()),
        None => response,
    }
}

/// A JSON document with a trailing newline. Our documents always
/// serialise.
pub(crate) fn json_bytes(value: &impl serde::Serialize) -> Vec<u8> {
    let mut body = serde_json::to_vec(value).expect("JSON documents serialise");
    body.push(b'\n');
    body
}

pub(crate) fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    json_body(status, json_bytes(value))
}

fn json_body(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A resolved document: JSON, cacheable for ten minutes (the catalog of a
/// running server never changes).
fn document(body: Bytes) -> Response {
    let mut response = json_body(StatusCode::OK, body);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=600"),
    );
    response
}

#[utoipa::path(
    get, path = "/health", operation_id = "getHealth", tag = "service",
    summary = "Liveness",
    responses((status = 200, description = "Alive", body = Object))
)]
async fn health() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"status": "healthy", "timestamp": crate::time::now_rfc3339()}),
    )
}

#[utoipa::path(
    get, path = "/ready", operation_id = "getReady", tag = "service",
    summary = "Readiness",
    responses(
        (status = 200, description = "Serving", body = Object),
        (status = 503, description = "Starting or draining", body = Object),
    )
)]
async fn ready(State(server): State<Arc<Server>>) -> Response {
    if server.ready.load(Ordering::SeqCst) {
        json_response(
            StatusCode::OK,
            &json!({"status": "ready", "timestamp": crate::time::now_rfc3339()}),
        )
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "not_ready", "timestamp": crate::time::now_rfc3339(),
                    "reason": "service is starting or shutting down"}),
        )
    }
}

#[utoipa::path(
    get, path = "/metrics", operation_id = "getMetrics", tag = "service",
    summary = "Prometheus metrics",
    responses((status = 200, description = "Text exposition format", body = String,
        content_type = "text/plain"))
)]
async fn metrics(State(server): State<Arc<Server>>) -> Response {
    let mut response = server.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[utoipa::path(
    get, path = "/v1/openapi.json", operation_id = "getOpenApi", tag = "service",
    summary = "This document",
    responses((status = 200, description = "OpenAPI 3.1", body = Object))
)]
async fn openapi() -> Response {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = TEXT.get_or_init(crate::openapi::text);
    json_body(StatusCode::OK, text.as_str())
}

#[utoipa::path(
    get, path = "/", operation_id = "getRoutes", tag = "service",
    summary = "Service name, version and routes",
    responses((status = 200, description = "Routes", body = Object))
)]
async fn root() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"service": "aicrd", "version": aicr::VERSION, "routes": API_ROUTES}),
    )
}

/// Unknown paths are 404 (the reference answers any path with the route
/// list, which hides typos such as `/v1/recipes`).
async fn unknown_path(uri: Uri) -> ApiError {
    ApiError::new(Code::NotFound, "No such route")
        .detail("path", shown(uri.path()))
        .detail("routes", API_ROUTES.to_vec())
}

/// Criteria as query parameters (`GET /v1/recipe`, `GET /v1/query`).
/// The doc comments are the parameters' descriptions in the OpenAPI
/// document.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CriteriaParams {
    /// A Service (see the schema of that name) or an alias
    service: Option<String>,
    /// An Accelerator (see the schema of that name) or an alias
    accelerator: Option<String>,
    /// Alias of accelerator, used when accelerator is not given
    gpu: Option<String>,
    /// An Intent (see the schema of that name)
    intent: Option<String>,
    /// An Os (see the schema of that name)
    os: Option<String>,
    /// A Platform (see the schema of that name)
    platform: Option<String>,
    /// GPU node count; 0 means any
    #[param(value_type = Option<u32>)]
    nodes: Option<String>,
    /// Read by `GET /v1/query` only, which documents it.
    #[param(ignore)]
    selector: Option<String>,
}

impl CriteriaParams {
    fn parse(uri: &Uri) -> Result<Self, ApiError> {
        Query::<CriteriaParams>::try_from_uri(uri)
            .map(|q| q.0)
            .map_err(|e| {
                ApiError::new(Code::InvalidRequest, "Invalid query parameters")
                    .detail("error", e.body_text())
            })
    }

    fn criteria(&self) -> Result<aicr::Criteria, ApiError> {
        let invalid = |e: aicr::Error| ApiError::from_error("Invalid recipe criteria", e);
        let nodes = match &self.nodes {
            None => None,
            Some(n) => Some(parse_nodes(n).map_err(|m| invalid(aicr::Error::invalid(m)))?),
        };
        CriteriaFlags {
            service: self.service.clone(),
            accelerator: self.accelerator.clone().or_else(|| self.gpu.clone()),
            intent: self.intent.clone(),
            os: self.os.clone(),
            platform: self.platform.clone(),
            nodes,
        }
        .criteria()
        .map_err(invalid)
    }
}

/// Client text for a message: at most 200 characters, control
/// characters escaped.
fn shown(text: &str) -> String {
    aicr::escape(&text.chars().take(200).collect::<String>())
}

/// A `nodes` parameter, strictly an integer (the reference read `4abc` as
/// 4); the range is the facade's to check.
fn parse_nodes(text: &str) -> Result<i64, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "nodes must be a non-negative integer, not {:?}",
            shown(text)
        )
    })
}

#[utoipa::path(
    get, path = "/v1/recipe", operation_id = "getRecipe", tag = "recipes",
    summary = "Resolve a recipe from query parameters",
    params(CriteriaParams),
    responses(
        (status = 200, description = "The resolved recipe.", body = RecipeResult,
            headers(("Cache-Control" = String))),
        (status = 400, response = BadRequest),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
        (status = 504, response = TimedOut),
    )
)]
async fn recipe_get(State(server): State<Arc<Server>>, uri: Uri) -> Result<Response, ApiError> {
    let criteria = CriteriaParams::parse(&uri)?.criteria()?;
    recipe_for(&server, criteria)
}

#[utoipa::path(
    post, path = "/v1/recipe", operation_id = "postRecipe", tag = "recipes",
    summary = "Resolve a recipe from a RecipeCriteria document",
    request_body(description = format!("At most {CRITERIA_BODY_LIMIT} bytes."), content(
        (RecipeCriteria = "application/json"),
        (RecipeCriteria = "application/yaml"),
    )),
    responses(
        (status = 200, description = "The resolved recipe.", body = RecipeResult,
            headers(("Cache-Control" = String))),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
        (status = 504, response = TimedOut),
    )
)]
async fn recipe_post(
    State(server): State<Arc<Server>>,
    request: Request,
) -> Result<Response, ApiError> {
    let body = read_body(request.into_body(), CRITERIA_BODY_LIMIT).await?;
    let criteria = aicr::criteria_document(&body, "request body")
        .map_err(|e| ApiError::from_error("Invalid recipe criteria", e))?;
    recipe_for(&server, criteria)
}

fn memo(
    server: &Server,
) -> std::sync::MutexGuard<'_, std::collections::HashMap<aicr::Criteria, Bytes>> {
    server.recipes.lock().unwrap_or_else(|e| e.into_inner())
}

/// The recipe for `criteria` as JSON, rendered once per criteria.
fn recipe_for(server: &Server, criteria: aicr::Criteria) -> Result<Response, ApiError> {
    server.config.allow.check(&criteria)?;
    if let Some(body) = memo(server).get(&criteria).cloned() {
        server
            .metrics
            .recipe_memo_hits
            .fetch_add(1, Ordering::Relaxed);
        return Ok(document(body));
    }
    server
        .metrics
        .recipe_memo_misses
        .fetch_add(1, Ordering::Relaxed);
    let recipe = server
        .client
        .recipe(&criteria)
        .map_err(|e| ApiError::from_error("Recipe generation failed", e))?;
    let body = Bytes::from(json_bytes(&recipe));
    let mut memo = memo(server);
    if memo.len() < MEMO_ENTRIES {
        memo.insert(criteria, body.clone());
    }
    Ok(document(body))
}

#[utoipa::path(
    get, path = "/v1/query", operation_id = "getQuery", tag = "recipes",
    summary = "One value of the hydrated recipe",
    params(
        CriteriaParams,
        ("selector" = Option<String>, Query,
            description = "Dot path; empty for the whole hydrated recipe."),
    ),
    responses(
        (status = 200, description = "The selected value, as bare JSON.", body = Value),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
        (status = 504, response = TimedOut),
    )
)]
async fn query_get(State(server): State<Arc<Server>>, uri: Uri) -> Result<Response, ApiError> {
    let params = CriteriaParams::parse(&uri)?;
    let criteria = params.criteria()?;
    query_for(&server, criteria, params.selector.as_deref().unwrap_or(""))
}

#[utoipa::path(
    post, path = "/v1/query", operation_id = "postQuery", tag = "recipes",
    summary = "One value of the hydrated recipe",
    request_body(description = format!("At most {CRITERIA_BODY_LIMIT} bytes."), content(
        (QueryRequest = "application/json"),
        (QueryRequest = "application/yaml"),
    )),
    responses(
        (status = 200, description = "The selected value, as bare JSON.", body = Value),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
        (status = 504, response = TimedOut),
    )
)]
async fn query_post(
    State(server): State<Arc<Server>>,
    request: Request,
) -> Result<Response, ApiError> {
    let body = read_body(request.into_body(), CRITERIA_BODY_LIMIT).await?;
    let (criteria, selector) = aicr::query_document(&body, "request body")
        .map_err(|e| ApiError::from_error("Invalid query request body", e))?;
    query_for(&server, criteria, &selector)
}

fn query_for(
    server: &Server,
    criteria: aicr::Criteria,
    selector: &str,
) -> Result<Response, ApiError> {
    server.config.allow.check(&criteria)?;
    let selector = if selector.is_empty() { "." } else { selector };
    let value = server.client.query(&criteria, selector).map_err(|e| {
        if e.code() == Code::NotFound {
            ApiError::from_error("Selector path not found", e).detail("selector", selector)
        } else {
            ApiError::from_error("Query failed", e)
        }
    })?;
    Ok(document(Bytes::from(json_bytes(&value))))
}

/// Largest body of `POST /v1/bundle` (the reference's cap).
pub(crate) const BUNDLE_BODY_LIMIT: usize = 8 << 20;

/// Query parameters of `POST /v1/bundle` that may be repeated.
pub(crate) const LIST_PARAMS: [&str; 7] = [
    "set",
    "dynamic",
    "system-node-selector",
    "system-node-toleration",
    "accelerated-node-selector",
    "accelerated-node-toleration",
    "workload-selector",
];

/// The query string as a [`aicr::BundleRequest`]: the flag grammars of
/// `aicr bundle`, one parameter per flag.
fn bundle_request(uri: &Uri) -> Result<aicr::BundleRequest, ApiError> {
    let invalid = |message: String| {
        ApiError::new(Code::InvalidRequest, "Invalid bundle parameters").detail("error", message)
    };
    let mut fields = serde_json::Map::new();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        let key = key.into_owned();
        if LIST_PARAMS.contains(&key.as_str()) {
            let list = fields
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(Value::String(value.into_owned()));
            }
            continue;
        }
        let value = if key == "nodes" {
            Value::from(parse_nodes(&value).map_err(invalid)?)
        } else {
            Value::String(value.into_owned())
        };
        if fields.insert(key.clone(), value).is_some() {
            return Err(invalid(format!(
                "parameter {:?} can only be given once",
                shown(&key)
            )));
        }
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| invalid(e.to_string()))
}

/// `POST /v1/bundle`: a RecipeResult in, the bundle `aicr bundle` would
/// write out, as one zip archive.
#[utoipa::path(
    post, path = "/v1/bundle", operation_id = "postBundle", tag = "bundles",
    summary = "Render a bundle of a recipe",
    params(BundleParams),
    request_body(description = format!("A RecipeResult, at most {BUNDLE_BODY_LIMIT} bytes."),
        content((RecipeResult = "application/json"))),
    responses(
        (status = 200, description = "The bundle `aicr bundle` would write, as a zip archive.",
            body = inline(ZipArchive), content_type = "application/zip",
            headers(
                ("X-Bundle-Files" = u64, description = "Number of rendered files"),
                ("X-Bundle-Size" = u64, description = "Their total size in bytes"),
                ("X-Bundle-Duration" = String, description = "Time taken, as `0.123s`"),
                ("Content-Disposition" = String),
            )),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
        (status = 503, response = Unavailable),
        (status = 504, response = TimedOut),
    )
)]
async fn bundle(State(server): State<Arc<Server>>, request: Request) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let options = bundle_request(request.uri())?
        .options()
        .map_err(|e| ApiError::from_error("Invalid bundle parameters", e))?;
    let body = read_body(request.into_body(), BUNDLE_BODY_LIMIT).await?;
    let recipe = server
        .client
        .parse_recipe(&body, "request body")
        .map_err(|e| ApiError::from_error("Invalid request body", e))?;
    server.config.allow.check(&recipe.criteria)?;
    if recipe.component_refs.is_empty() {
        return Err(ApiError::new(
            Code::InvalidRequest,
            "Recipe must contain at least one component reference",
        ));
    }
    let fetched = server
        .client
        .fetch_manifests(&recipe)
        .await
        .map_err(|e| ApiError::from_error("Bundle generation failed", e))?;
    // Rendering and compressing take milliseconds of CPU: keep them off
    // the threads that accept and answer requests.
    let worker = server.clone();
    let (files, size, archive) = tokio::task::spawn_blocking(move || {
        let tree = worker.client.render_bundle(&recipe, &options, &fetched)?;
        let size: usize = tree.iter().map(|(_, f)| f.bytes.len()).sum();
        let archive = worker.client.archive_bundle(&tree)?;
        Ok::<_, aicr::Error>((tree.len(), size, archive))
    })
    .await
    .map_err(|e| {
        ApiError::new(Code::Internal, "Bundle generation failed").detail("error", e.to_string())
    })?
    .map_err(|e| ApiError::from_error("Bundle generation failed", e))?;
    let mut response = (StatusCode::OK, archive).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"bundles.zip\""),
    );
    for (name, value) in [
        ("x-bundle-files", files.to_string()),
        ("x-bundle-size", size.to_string()),
        (
            "x-bundle-duration",
            format!("{:.3}s", started.elapsed().as_secs_f64()),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    Ok(response)
}

/// The body, at most `limit` bytes: more is 413 with the limit.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let text = e.to_string();
        if e.into_inner()
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            let mut error = ApiError::new(
                Code::InvalidRequest,
                "Request body exceeds maximum allowed size",
            )
            .detail("limit_bytes", limit);
            error.status = Some(StatusCode::PAYLOAD_TOO_LARGE);
            error
        } else {
            ApiError::new(Code::InvalidRequest, "Invalid request body").detail("error", text)
        }
    })
}
