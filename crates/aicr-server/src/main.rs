//! `aicrd`: settings from flags or the environment (the reference's
//! variables), then serving until SIGINT or SIGTERM. A value that does not
//! parse stops start-up with exit status 1 (the reference warned and kept
//! its default, which hides a typo in a Deployment).
//!
//! The binary installs the one log subscriber (JSON lines on stderr); the
//! library only emits `tracing` events, so embedders choose their own.

// The binary is the edge: it reads the environment and exits.
#![allow(clippy::disallowed_methods)]

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// The AICR REST API server.
#[derive(Debug, Parser)]
#[command(name = "aicrd", version = aicr::VERSION)]
struct Args {
    /// Port to listen on, on all interfaces.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Seconds in-flight requests may take to drain after SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    shutdown_timeout: u64,
    /// Requests per second for the whole process; 0 turns the limit off.
    #[arg(long, env = "AICR_RATE_LIMIT", default_value_t = 100.0, value_parser = non_negative)]
    rate_limit: f64,
    /// Size of the rate limit's token bucket.
    #[arg(long, env = "AICR_RATE_BURST", default_value_t = 200)]
    rate_burst: u32,
    /// Services requests may name (comma list; unset allows all).
    #[arg(long, env = "AICR_ALLOWED_SERVICES")]
    allowed_services: Option<String>,
    /// Accelerators requests may name (comma list; unset allows all).
    #[arg(long, env = "AICR_ALLOWED_ACCELERATORS")]
    allowed_accelerators: Option<String>,
    /// Intents requests may name (comma list; unset allows all).
    #[arg(long, env = "AICR_ALLOWED_INTENTS")]
    allowed_intents: Option<String>,
    /// Operating systems requests may name (comma list; unset allows all).
    #[arg(long, env = "AICR_ALLOWED_OS")]
    allowed_os: Option<String>,
    /// One JSON line per request on stderr: on or off.
    #[arg(long, env = "AICR_ACCESS_LOG", default_value = "on", value_parser = ["on", "off"])]
    access_log: String,
}

fn non_negative(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!(
            "{text:?} is not a number of requests per second (0 or more)"
        )),
    }
}

/// Completes on SIGINT or SIGTERM.
async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn main() -> ExitCode {
    let args = Args::try_parse().unwrap_or_else(|e| {
        // --help and --version print to stdout and succeed; a bad setting
        // is a failed start-up.
        let _ = e.print();
        std::process::exit(if e.use_stderr() { 1 } else { 0 });
    });
    // One JSON object per line on stderr, written by a thread of its own:
    // a request never waits on stderr, and when stderr falls behind by
    // more than the queue, lines are dropped (lossy) rather than memory
    // grown. The thread writes what has queued into the buffer and then
    // flushes, so under load one system call carries many lines. The
    // guard writes what is left when main returns.
    let buffered = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let (stderr, _flush) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(65_536)
        .finish(buffered);
    // Event fields at the top level of the line, beside timestamp, level
    // and message; no span context (the server opens no spans).
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(stderr)
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(error = message, "server failed");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let allow = aicr_server::Allowlists::parse(
        args.allowed_services.as_deref(),
        args.allowed_accelerators.as_deref(),
        args.allowed_intents.as_deref(),
        args.allowed_os.as_deref(),
    )
    .map_err(|e| format!("allowlist: {e}"))?;
    let config = aicr_server::Config {
        allow,
        rate_limit: args.rate_limit,
        rate_burst: args.rate_burst,
        access_log: args.access_log == "on",
        ..aicr_server::Config::default()
    };
    let client = aicr::Client::embedded().map_err(|e| e.to_string())?;
    // Parse the overlays now: a request never waits for it, and a broken
    // catalog stops the server before it is ready.
    client.catalog().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let drain = args.shutdown_timeout;
    let stop = async move {
        stop_signal().await;
        tracing::info!(drainSeconds = drain, "shutting down");
    };
    runtime
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(("0.0.0.0", args.port)).await?;
            tracing::info!(
                address = %listener.local_addr()?,
                version = aicr::VERSION,
                "listening"
            );
            let server = aicr_server::Server::new(client, config);
            aicr_server::serve(listener, server, stop, Duration::from_secs(drain)).await
        })
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}
