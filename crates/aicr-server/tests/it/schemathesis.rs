//! Schemathesis (from PyPI, installed by scripts/install_real_tools.sh)
//! generates requests from the served OpenAPI document against a running
//! `aicrd` and fails on any 5xx or response that breaks the document.
//! Without the tool this test says so and passes, unless
//! `AICR_REQUIRE_REAL_TOOLS` is set (CI), when it fails.

use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn schemathesis_finds_no_server_errors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let st = root.join("target/tools/venv/bin/st");
    if !st.exists() {
        assert!(
            std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
            "schemathesis is required but {} is missing: run scripts/install_real_tools.sh",
            st.display()
        );
        eprintln!("skipping: schemathesis not installed (run scripts/install_real_tools.sh)");
        return;
    }
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_aicrd"))
        .env("PORT", port.to_string())
        .env("AICR_RATE_LIMIT", "0")
        .env("AICR_ACCESS_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    // schemathesis keeps a `.schemathesis/` folder where it runs.
    let scratch = tempfile::tempdir().unwrap();
    let out = up.then(|| {
        Command::new(&st)
            .current_dir(scratch.path())
            .args([
                "run",
                &format!("http://127.0.0.1:{port}/v1/openapi.json"),
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples",
                "25",
                "--seed",
                "1",
            ])
            .output()
            .unwrap()
    });
    let _ = server.kill();
    let _ = server.wait();
    let out = out.expect("aicrd came up");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
