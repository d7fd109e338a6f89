//! `aicr mcp`: the Model Context Protocol server on stdio, or on HTTP
//! with `--listen`. Flags in, `aicr_mcp` out; the server holds the tools.

use std::net::SocketAddr;

use aicr::{CatalogSource, Client, Error, Result};
use aicr_mcp::{AicrMcp, Hosts};
use clap::Args;

use crate::cli::CatalogArgs;

/// Flags of `aicr mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (port 0
    /// picks a free port; the address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    source: CatalogArgs,
}

/// `aicr mcp --help` examples.
pub const MCP_EXAMPLES: &str = "Examples:
  claude mcp add aicr -- aicr mcp          # register with Claude Code (stdio)
  aicr mcp --listen 127.0.0.1:8765         # streamable HTTP at http://127.0.0.1:8765/mcp
  aicr mcp --data ./my-recipes             # serve a catalog layered over the embedded one";

/// Runs `aicr mcp` until the client disconnects (stdio) or SIGINT (HTTP).
/// Logs, one JSON line per call, go to stderr: stdout carries the protocol.
pub fn mcp(args: McpArgs) -> Result<()> {
    install_log_subscriber();
    let catalog = CatalogSource::choose(args.source.catalog, args.source.data, None);
    let client = Client::open(&catalog)?;
    // Parse the overlays now, so a broken catalog fails before a client
    // connects and no tool call pays for it.
    client.catalog()?;
    let server = AicrMcp::new(client, catalog);
    let served = match args.listen {
        None => aicr::block_on(aicr_mcp::serve_stdio(server)),
        Some(addr) => aicr::block_on(listen(addr, server)),
    };
    served.map_err(|e| Error::new(aicr::Code::ServiceUnavailable, format!("mcp server: {e}")))
}

async fn listen(addr: SocketAddr, server: AicrMcp) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // A loopback server accepts loopback host names only (DNS rebinding);
    // one bound elsewhere is reached by names it cannot know.
    let hosts = if addr.ip().is_loopback() {
        Hosts::Loopback
    } else {
        Hosts::Any
    };
    crate::cli::note(&format!(
        "aicr mcp: listening on http://{}/mcp",
        listener.local_addr()?
    ));
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    aicr_mcp::serve_http(listener, server, hosts, stop).await
}

/// JSON lines on stderr for the server's `tracing` events.
fn install_log_subscriber() {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .try_init();
}
