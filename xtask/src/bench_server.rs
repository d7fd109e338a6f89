//! `cargo xtask bench-server [--reference BIN] [SECONDS]`: `aicrd`'s
//! throughput under `wrk` on loopback, optionally beside the reference's
//! `aicrd`.
//!
//! Ours is `aicrd` as the container ships it (release, static-pie,
//! `target/dist/aicrd`). Each server runs alone with its rate limit off (`AICR_RATE_LIMIT=0` for
//! ours; the reference's limit is fixed in its code, so `BIN` must be a
//! build with it removed) and its logs sent to /dev/null. `wrk` (Debian's
//! package) runs 2 threads and 64 connections for SECONDS (60 by default)
//! against `GET /v1/recipe?service=eks&accelerator=h100&intent=training&os=ubuntu`
//! on the same 2 cores. Reported: requests/s, p50 and p99 latency, non-2xx
//! and socket errors, and the server's resident memory before and after.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

const PATH: &str = "/v1/recipe?service=eks&accelerator=h100&intent=training&os=ubuntu";

pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = 60u64;
    let mut reference: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--reference" => {
                reference = Some(PathBuf::from(
                    it.next().context("--reference needs a path")?,
                ))
            }
            n => seconds = n.parse().with_context(|| format!("seconds: {n:?}"))?,
        }
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is not installed (apt-get install wrk)");
    }
    // The server as the container ships it (deploy/Containerfile).
    let ours = crate::dist::build_static("aicr-server", "aicrd")?;
    let mine = measure("aicr-rs", &ours, 18_081, seconds)?;
    if let Some(bin) = reference {
        let theirs = measure("reference", &bin, 18_082, seconds)?;
        println!(
            "ratio      requests/s: aicr-rs / reference = {:.1}x",
            mine / theirs
        );
    }
    Ok(())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs one server and wrk against it; returns requests per second.
fn measure(label: &str, bin: &Path, port: u16, seconds: u64) -> Result<f64> {
    let server = Server(
        Command::new(bin)
            .env("PORT", port.to_string())
            .env("AICR_RATE_LIMIT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?,
    );
    let url = format!("http://127.0.0.1:{port}");
    wait_until_up(&url)?;
    // Warm up (the memo, the allocator, the kernel's socket caches).
    wrk(&format!("{url}{PATH}"), 2)?;
    let before = rss_kib(server.0.id());
    let out = wrk(&format!("{url}{PATH}"), seconds)?;
    let after = rss_kib(server.0.id());
    let rate = field(&out, "Requests/sec:").context("wrk printed no Requests/sec")?;
    let p50 = latency(&out, "50%");
    let p99 = latency(&out, "99%");
    let non_2xx = field(&out, "Non-2xx or 3xx responses:").unwrap_or(0.0);
    let socket_errors = out
        .lines()
        .find(|l| l.contains("Socket errors"))
        .unwrap_or("none");
    println!(
        "{label:<10} {rate:.0} requests/s over {seconds} s, p50 {p50}, p99 {p99}, non-2xx {non_2xx:.0}, socket errors: {}, RSS {} -> {} KiB",
        socket_errors.trim(),
        before.map_or("?".into(), |k| k.to_string()),
        after.map_or("?".into(), |k| k.to_string()),
    );
    Ok(rate)
}

fn wait_until_up(url: &str) -> Result<()> {
    for _ in 0..100 {
        let ok = Command::new("wrk")
            .args(["-t1", "-c1", "-d1s", &format!("{url}/health")])
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Requests/sec")
            });
        if ok && std::net::TcpStream::connect(url.trim_start_matches("http://")).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("the server at {url} did not come up")
}

fn wrk(url: &str, seconds: u64) -> Result<String> {
    let out = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency", url])
        .output()?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn field(out: &str, name: &str) -> Option<f64> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
}

fn latency(out: &str, pct: &str) -> String {
    out.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(pct))
        .map_or("?".into(), |v| v.trim().to_string())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
