//! The architecture's boundaries, tested: the core crate pulls in no async
//! runtime, no network and no Kubernetes client.

use std::process::Command;

#[test]
fn core_has_no_async_network_or_kubernetes_dependencies() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "aicr-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    for banned in [
        "tokio ",
        "kube ",
        "kube-client",
        "axum",
        "hyper",
        "reqwest",
        "ureq",
        "async-std",
        "mio ",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(banned)),
            "aicr-core depends on {banned}"
        );
    }
}
