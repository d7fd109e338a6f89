//! The official MCP Python SDK (`mcp` from PyPI, in the tools venv that
//! `scripts/install_real_tools.sh` makes) driving an MCP server through
//! `scripts/mcp_client.py`, for the `aicr mcp` and `aicrd /mcp` tests.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The venv's Python when it can import `mcp`; otherwise `None` with the
/// reason printed (skip), or a panic when `AICR_REQUIRE_REAL_TOOLS` is set.
pub fn python_or_skip() -> Option<PathBuf> {
    let python = crate::repo_root().join("target/tools/venv/bin/python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import mcp.client.streamable_http, mcp.client.stdio"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        assert!(
            std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
            "the MCP Python SDK is required but missing from {}: run scripts/install_real_tools.sh",
            python.display()
        );
        eprintln!(
            "skipping: the MCP Python SDK is not installed (run scripts/install_real_tools.sh)"
        );
        return None;
    }
    Some(python)
}

/// Runs `scripts/mcp_client.py` with `cases` (a list of `{label, tool,
/// arguments}`) over `transport` (`["stdio", BINARY, ARGS...]` or
/// `["http", URL]`) and returns what it printed.
pub fn drive(python: &std::path::Path, cases: &Value, transport: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    std::fs::write(&file, serde_json::to_vec(cases).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(crate::repo_root().join("scripts/mcp_client.py"))
        .arg(&file)
        .args(transport)
        .output()
        .expect("python runs");
    let (status, stdout, stderr) = crate::output_text(out);
    assert_eq!(status, 0, "mcp_client.py {transport:?} failed:\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}
