//! `aicr mcp`: a Model Context Protocol server over the facade
//! ([`aicr::Client`]), so an assistant can ask aicr what it would deploy
//! instead of guessing.
//!
//! Tools (all read-only, see [`tools`]): `list_criteria`,
//! `resolve_recipe`, `query_recipe`, `explain_recipe`, `render_bundle` (in memory),
//! `lint_catalog`, `validate_recipe` and `diff_snapshots` (documents passed
//! inline). Their input schemas are generated from the facade's request
//! types. Resources: the catalog's documents as `aicr://catalog/<path>`.
//!
//! Nothing exposed writes a file, reaches the network or runs a process:
//! every tool is a pure facade call over the catalog the server was
//! opened on, and a recipe needing a download is refused. Arguments are
//! capped at [`MAX_ARGUMENT_BYTES`]. Every call is one `tracing` event
//! (tool, SHA-256 of the canonical arguments, duration, outcome); this
//! library installs no subscriber, and for stdio the caller must keep
//! logs off stdout, which carries the protocol.
//!
//! Two transports: [`serve_stdio`] (`aicr mcp`) and the streamable HTTP
//! tower service [`http_service`] (mounted by `aicrd` at `/mcp`, or served
//! alone by [`serve_http`] for `aicr mcp --listen`). HTTP is stateless: no
//! session is kept between requests, so replicas need no affinity.
//!
//! ```
//! use aicr_mcp::AicrMcp;
//!
//! let server = AicrMcp::new(aicr::Client::embedded().unwrap(), aicr::CatalogSource::Embedded);
//! let result = server
//!     .call("resolve_recipe", serde_json::json!({"service": "gke", "accelerator": "h100"}))
//!     .unwrap();
//! assert_eq!(result.is_error, Some(false));
//! ```

pub mod resources;
pub mod tools;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use aicr::{CatalogSource, Client, Error};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

/// Largest tool arguments accepted, serialised: the inline recipe and
/// snapshots included.
pub const MAX_ARGUMENT_BYTES: usize = 1 << 20;

/// Largest HTTP request body: the arguments plus the JSON-RPC envelope.
const MAX_BODY_BYTES: usize = MAX_ARGUMENT_BYTES + 64 * 1024;

/// The MCP server: a facade client, the catalog it was opened on and the
/// criteria it may resolve. Cheap to clone; concurrent calls share
/// nothing mutable.
#[derive(Clone)]
pub struct AicrMcp {
    client: Client,
    catalog: CatalogSource,
    policy: Arc<tools::Policy>,
}

impl std::fmt::Debug for AicrMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AicrMcp")
            .field("catalog", &self.catalog)
            .finish_non_exhaustive()
    }
}

impl AicrMcp {
    /// A server over `client`, which was opened on `catalog`
    /// (`lint_catalog` lints that source), resolving any criteria.
    pub fn new(client: Client, catalog: CatalogSource) -> Self {
        AicrMcp {
            client,
            catalog,
            policy: Arc::new(|_| Ok(())),
        }
    }

    /// This server refusing every recipe whose criteria `policy` refuses
    /// (aicrd's allowlists).
    pub fn with_policy(
        mut self,
        policy: impl Fn(&aicr::Criteria) -> aicr::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Calls tool `name` with `arguments` and logs the call; `None` for a
    /// tool that does not exist. Failures are tool errors whose text is
    /// `[CODE] message` and whose structured content is `{code, message}`.
    pub fn call(&self, name: &str, arguments: Value) -> Option<CallToolResult> {
        let started = Instant::now();
        let digest = digest(&arguments);
        let size = serde_json::to_vec(&arguments).map_or(0, |b| b.len());
        let result = if size > MAX_ARGUMENT_BYTES {
            Some(Err(Error::invalid(format!(
                "the arguments are {size} bytes; the limit is {MAX_ARGUMENT_BYTES}"
            ))))
        } else {
            let cx = tools::Context {
                client: &self.client,
                catalog: &self.catalog,
                policy: &*self.policy,
            };
            tools::call(&cx, name, arguments)
        };
        let outcome = match &result {
            None => "UNKNOWN_TOOL",
            Some(Ok(_)) => "ok",
            Some(Err(e)) => e.code().as_str(),
        };
        tracing::info!(
            tool = name,
            arguments_sha256 = digest,
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            outcome,
            "mcp tool call"
        );
        Some(match result? {
            Ok(output) => {
                let mut done = CallToolResult::success(vec![ContentBlock::text(output.text)]);
                done.structured_content = Some(output.structured);
                done
            }
            Err(e) => tool_error(&e),
        })
    }
}

/// A tool error carrying our code: `[CODE] message` as text, and
/// `{code, message}` as structured content.
fn tool_error(e: &Error) -> CallToolResult {
    let mut failed = CallToolResult::error(vec![ContentBlock::text(e.to_string())]);
    failed.structured_content = Some(json!({"code": e.code().as_str(), "message": e.detail()}));
    failed
}

/// SHA-256 of `value` with object keys sorted, so the same arguments give
/// the same digest whatever order a client wrote them in.
fn digest(value: &Value) -> String {
    let bytes = serde_json::to_vec(&aicr::SortedKeys(value)).unwrap_or_default();
    aicr::sha256_hex(&bytes)
}

impl ServerHandler for AicrMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("aicr", aicr::VERSION))
            .with_instructions(
                "aicr answers what it would deploy on a GPU Kubernetes cluster. Start with list_criteria, then resolve_recipe for the environment (service, accelerator, intent, os, platform); query_recipe selects part of it, render_bundle shows the files a deployer would write. Every tool is read-only and offline; errors carry a code such as INVALID_REQUEST or NOT_FOUND.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        // The tools are CPU work (resolving, rendering, linting): off the
        // async workers, so a slow call never stalls other connections.
        let server = self.clone();
        let called = name.clone();
        let result = tokio::task::spawn_blocking(move || server.call(&called, arguments))
            .await
            .map_err(|e| McpError::internal_error(format!("tool {name} failed: {e}"), None))?;
        match result {
            Some(result) => Ok(result.into()),
            None => Err(McpError::invalid_params(
                format!("unknown tool {name:?}"),
                Some(
                    json!({"tools": tools::list().iter().map(|t| t.name.clone()).collect::<Vec<_>>()}),
                ),
            )),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(resources::list(
            &self.client,
        )))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let started = Instant::now();
        let read = resources::read(&self.client, &request.uri);
        tracing::info!(
            resource = request.uri.as_str(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            outcome = read.as_ref().map_or_else(|e| e.code().as_str(), |_| "ok"),
            "mcp resource read"
        );
        match read {
            Ok(contents) => Ok(ReadResourceResult::new(vec![contents]).into()),
            Err(e) => {
                let data = Some(json!({"code": e.code().as_str(), "message": e.detail()}));
                Err(match e.code() {
                    aicr::Code::NotFound => McpError::resource_not_found(e.to_string(), data),
                    _ => McpError::invalid_params(e.to_string(), data),
                })
            }
        }
    }
}

/// Serves one client over stdin and stdout until it disconnects.
pub async fn serve_stdio(server: AicrMcp) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

/// Which `Host` headers the HTTP transport accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hosts {
    /// Loopback names only (`localhost`, `127.0.0.1`, `::1`): a server on
    /// a workstation, where another name would be DNS rebinding.
    Loopback,
    /// Any: a server reached through a cluster Service or an ingress,
    /// whose names the server cannot know.
    Any,
}

/// The streamable HTTP transport as a tower service, stateless (a fresh
/// handler per request, no session ids) and answering with plain JSON.
pub fn http_service(
    server: AicrMcp,
    hosts: Hosts,
) -> StreamableHttpService<AicrMcp, NeverSessionManager> {
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(MAX_BODY_BYTES);
    if hosts == Hosts::Any {
        config = config.disable_allowed_hosts();
    }
    StreamableHttpService::new(
        move || Ok(server.clone()),
        NeverSessionManager::default().into(),
        config,
    )
}

/// Serves the HTTP transport at `/mcp` on `listener` until `shutdown`
/// completes (`aicr mcp --listen`).
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    server: AicrMcp,
    hosts: Hosts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().route_service("/mcp", http_service(server, hosts));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> AicrMcp {
        AicrMcp::new(Client::embedded().unwrap(), CatalogSource::Embedded)
    }

    #[test]
    fn the_tool_list_and_its_schemas_are_stable() {
        let listed: Vec<Value> = tools::list()
            .iter()
            .map(|t| serde_json::to_value(t).unwrap())
            .collect();
        insta::assert_json_snapshot!("tools", listed);
    }

    #[test]
    fn errors_are_tool_errors_carrying_our_code() {
        let result = server()
            .call("resolve_recipe", json!({"accelerator": "h999"}))
            .unwrap();
        assert_eq!(result.is_error, Some(true));
        let structured = result.structured_content.unwrap();
        assert_eq!(structured["code"], "INVALID_REQUEST");
        assert!(structured["message"].as_str().unwrap().contains("h999"));
    }

    #[test]
    fn oversized_arguments_are_refused_before_parsing() {
        let big = "x".repeat(MAX_ARGUMENT_BYTES);
        let result = server()
            .call("diff_snapshots", json!({"baseline": big, "target": ""}))
            .unwrap();
        assert_eq!(
            result.structured_content.unwrap()["code"],
            "INVALID_REQUEST"
        );
    }

    #[test]
    fn unknown_tools_are_not_tool_results() {
        assert!(server().call("write_file", json!({})).is_none());
    }

    #[test]
    fn argument_digests_ignore_key_order() {
        assert_eq!(
            digest(&json!({"a": 1, "b": [{"c": 2, "d": 3}]})),
            digest(&json!({"b": [{"d": 3, "c": 2}], "a": 1}))
        );
    }
}
