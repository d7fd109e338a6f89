//! `aicrd`: reads its settings from the environment (the reference's
//! variables) and serves until SIGINT or SIGTERM.
//!
//! | Variable | Default | |
//! |---|---|---|
//! | `PORT` | 8080 | listens on all interfaces |
//! | `SHUTDOWN_TIMEOUT_SECONDS` | 30 | how long in-flight requests may drain |
//! | `AICR_RATE_LIMIT` | 100 | requests per second; 0 disables the limit |
//! | `AICR_RATE_BURST` | 200 | token bucket size |
//! | `AICR_ACCESS_LOG` | on | `off` silences the per-request JSON lines |
//!
//! A value that does not parse stops start-up (the reference warned and
//! kept its default, which hides a typo in a Deployment).

// The binary is the edge: it reads the environment and exits.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a valid value")),
    }
}

fn config() -> Result<(u16, Duration, aicr_server::Config), String> {
    let port = setting("PORT", 8080u16)?;
    let drain = setting("SHUTDOWN_TIMEOUT_SECONDS", 30u64)?;
    if drain == 0 {
        return Err("SHUTDOWN_TIMEOUT_SECONDS must be at least 1".into());
    }
    let rate_limit = setting("AICR_RATE_LIMIT", 100f64)?;
    if !(rate_limit >= 0.0 && rate_limit.is_finite()) {
        return Err("AICR_RATE_LIMIT must be 0 or more".into());
    }
    let access_log = match std::env::var("AICR_ACCESS_LOG").as_deref() {
        Err(_) | Ok("on") => true,
        Ok("off") => false,
        Ok(other) => return Err(format!("AICR_ACCESS_LOG={other:?}: use on or off")),
    };
    let config = aicr_server::Config {
        rate_limit,
        rate_burst: setting("AICR_RATE_BURST", 200u32)?,
        access_log,
        ..aicr_server::Config::default()
    };
    Ok((port, Duration::from_secs(drain), config))
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

fn main() {
    let fail = |message: String| -> ! {
        eprintln!(
            "{}",
            serde_json::json!({"level": "error", "msg": "server failed", "error": message})
        );
        std::process::exit(1);
    };
    let (port, drain, config) = config().unwrap_or_else(|e| fail(e));
    let client = aicr::Client::embedded().unwrap_or_else(|e| fail(e.to_string()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e.to_string()));
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
        eprintln!(
            "{}",
            serde_json::json!({"level": "info", "msg": "listening", "port": port, "version": aicr::VERSION})
        );
        let server = aicr_server::Server::new(client, config);
        aicr_server::serve(listener, server, stop_signal(), drain).await
    });
    if let Err(e) = result {
        fail(e.to_string());
    }
}
