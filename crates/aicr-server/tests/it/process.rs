//! The `aicrd` binary itself: settings, start-up failures and SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

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

#[test]
fn sigterm_stops_the_server_cleanly() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = aicrd().env("PORT", port.to_string()).spawn().unwrap();
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "aicrd came up");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
