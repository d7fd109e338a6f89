//! The `aicrd` binary itself: settings, start-up failures and SIGTERM.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

fn aicrd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aicrd"));
    cmd.env_remove("PORT")
        .env_remove("AICR_RATE_LIMIT")
        .env_remove("AICR_RATE_BURST")
        .env_remove("SHUTDOWN_TIMEOUT_SECONDS")
        .env_remove("AICR_ALLOWED_SERVICES")
        .env_remove("AICR_ALLOWED_ACCELERATORS")
        .env_remove("AICR_ALLOWED_INTENTS")
        .env_remove("AICR_ALLOWED_OS")
        .env("AICR_ACCESS_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn settings_that_do_not_parse_stop_start_up() {
    for (name, value) in [
        ("PORT", "eighty"),
        ("AICR_RATE_LIMIT", "-1"),
        ("AICR_RATE_BURST", "many"),
        ("SHUTDOWN_TIMEOUT_SECONDS", "0"),
        ("AICR_ACCESS_LOG", "loud"),
        ("AICR_ALLOWED_ACCELERATORS", "h100,h800"),
        ("AICR_ALLOWED_OS", "windows"),
    ] {
        let out = aicrd().env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}={value}");
        assert!(!out.stderr.is_empty(), "{name}={value} says why");
    }
    let out = aicrd().arg("--version").output().unwrap();
    assert!(out.status.success());
}

#[test]
fn a_port_in_use_fails_start_up() {
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = aicrd().env("PORT", port.to_string()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("server failed"));
}

/// A free port on the loopback interface.
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

fn wait_until_up(port: u16) {
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "aicrd came up");
}

fn sigterm(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// The status line of a GET of `path` sent with `X-Request-Id: id`.
fn get(port: u16, path: &str, id: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: t\r\nX-Request-Id: {id}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply.lines().next().unwrap_or_default().to_string()
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let port = free_port();
    let mut child = aicrd().env("PORT", port.to_string()).spawn().unwrap();
    wait_until_up(port);
    sigterm(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn every_log_line_is_json_and_each_request_has_an_access_line() {
    let port = free_port();
    let child = aicrd()
        .env("PORT", port.to_string())
        .env("AICR_ACCESS_LOG", "on")
        .spawn()
        .unwrap();
    wait_until_up(port);
    let found = "0b9f2d8e-3c4a-4f5e-9a6b-7c8d9e0f1a2b";
    let missing = "1c8e3f9d-4d5b-4a6f-8b7c-8d9e0f1a2b3c";
    assert_eq!(
        get(port, "/v1/recipe?service=eks", found),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        get(port, "/v1/recipes/%22a%22", missing),
        "HTTP/1.1 404 Not Found"
    );
    sigterm(&child);
    // Lines still queued at SIGTERM are written before the process ends.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    for line in &lines {
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["level"].is_string(), "{line}");
    }
    let access = |id: &str| {
        lines
            .iter()
            .find(|l| l["requestId"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in\n{stderr}"))
    };
    let line = access(found);
    assert_eq!(line["message"], "request completed");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/v1/recipe");
    assert_eq!(line["status"], 200);
    assert!(line["durationMs"].as_f64().unwrap() >= 0.0, "{line}");
    let line = access(missing);
    assert_eq!(line["path"], "/v1/recipes/%22a%22");
    assert_eq!(line["status"], 404);
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for said in ["listening", "shutting down", "stopped"] {
        assert!(messages.contains(&said), "{said:?} not in {messages:?}");
    }
}
