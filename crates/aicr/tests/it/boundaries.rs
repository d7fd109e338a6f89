//! The architecture's boundaries, tested: the pure library crates pull in
//! no async runtime, network or Kubernetes client, and the frontends reach
//! the library crates only through the facade.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use aicr_test_support::repo_root;
use serde_json::Value;

/// Crates that mean async, network, TLS or Kubernetes. A new one belongs
/// here when it is one of those, whatever pulled it in.
const ASYNC_OR_NETWORK: &[&str] = &[
    "async-io",
    "async-std",
    "axum",
    "axum-core",
    "curl",
    "futures-executor",
    "futures-io",
    "h2",
    "http-body",
    "hyper",
    "hyper-rustls",
    "hyper-util",
    "isahc",
    "k8s-openapi",
    "kube",
    "kube-client",
    "kube-core",
    "kube-runtime",
    "mio",
    "native-tls",
    "openssl",
    "reqwest",
    "rustls",
    "smol",
    "socket2",
    "surf",
    "tokio",
    "tokio-rustls",
    "tokio-util",
    "tonic",
    "tower",
    "tower-http",
    "tungstenite",
    "ureq",
    "ureq-proto",
];

/// Library crates that a frontend may use only through the facade.
const BEHIND_THE_FACADE: &[&str] = &["aicr-core", "aicr-bundle", "aicr-collect"];

/// The library crates that may not depend on aicr-collect: collect sits
/// above core, beside bundle, and only the facade composes them.
const NOT_ON_COLLECT: &[&str] = &["aicr-core", "aicr-bundle"];

/// The frontends: they translate between the outside world and the facade.
const FRONTENDS: &[&str] = &["aicr-cli", "aicr-server", "aicr-mcp"];

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(repo_root());
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Names of every crate in `package`'s normal (non-dev, non-build)
/// dependency tree, the package itself included.
fn normal_dependency_names(package: &str) -> BTreeSet<String> {
    let tree = stdout_of(cargo().args([
        "tree",
        "-p",
        package,
        "-e",
        "normal",
        "--prefix",
        "none",
        "--offline",
    ]));
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn assert_no_async_or_network(package: &str) {
    assert_none_of(package, ASYNC_OR_NETWORK);
}

/// Fails if `package`'s normal dependency tree holds any of `banned`.
fn assert_none_of(package: &str, banned: &[&str]) {
    let names = normal_dependency_names(package);
    // The tree was read: a parse that found nothing would pass vacuously.
    assert!(
        names.contains(package) && names.contains("serde"),
        "cargo tree -p {package} listed {names:?}"
    );
    let found: Vec<&str> = banned
        .iter()
        .copied()
        .filter(|banned| names.contains(*banned))
        .collect();
    assert!(
        found.is_empty(),
        "{package} depends on {found:?}; run `cargo tree -p {package} -e normal -i {}` to see why",
        found[0]
    );
}

#[test]
fn core_has_no_async_network_or_kubernetes_dependencies() {
    assert_no_async_or_network("aicr-core");
}

#[test]
fn bundle_has_no_async_network_or_kubernetes_dependencies() {
    assert_no_async_or_network("aicr-bundle");
}

/// What aicr-collect may not use although it does I/O: a second async
/// runtime beside tokio, a server framework, another TLS stack than
/// rustls, another HTTP client than the one kube brings.
const NOT_IN_COLLECT: &[&str] = &[
    "async-io",
    "async-std",
    "smol",
    "axum",
    "axum-core",
    "native-tls",
    "openssl",
    "curl",
    "isahc",
    "reqwest",
    "surf",
    "ureq",
    "ureq-proto",
];

/// aicr-collect does the snapshot's I/O, so tokio, zbus (systemd's D-Bus
/// socket), kube and k8s-openapi are its to use; it still runs on one
/// runtime and one HTTP and TLS stack.
#[test]
fn collect_uses_tokio_and_no_second_runtime_server_or_http_stack() {
    assert_none_of("aicr-collect", NOT_IN_COLLECT);
}

/// aicr-collect talks to the API server, so tokio, hyper and kube are
/// expected there; what it must not bring is a second HTTP or TLS stack or
/// a second crypto provider (kube on rustls with ring, nothing else).
#[test]
fn collect_uses_kube_on_rustls_with_ring_only() {
    let names = normal_dependency_names("aicr-collect");
    for expected in ["kube", "k8s-openapi", "tokio", "rustls", "ring"] {
        assert!(
            names.contains(expected),
            "aicr-collect lacks {expected}: {names:?}"
        );
    }
    let banned = [
        "aws-lc-rs",
        "aws-lc-sys",
        "openssl",
        "openssl-sys",
        "native-tls",
        "reqwest",
        "ureq",
    ];
    let found: Vec<&str> = banned.into_iter().filter(|b| names.contains(*b)).collect();
    assert!(found.is_empty(), "aicr-collect depends on {found:?}");
}

/// `cargo metadata` of the workspace (no dependency resolution needed).
fn workspace_packages() -> Vec<Value> {
    let json = stdout_of(cargo().args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]));
    let meta: Value = serde_json::from_str(&json).unwrap();
    meta["packages"].as_array().unwrap().clone()
}

#[test]
fn frontends_do_not_depend_on_library_crates_directly() {
    let packages = workspace_packages();
    let frontends: Vec<&Value> = packages
        .iter()
        .filter(|p| FRONTENDS.contains(&p["name"].as_str().unwrap()))
        .collect();
    assert!(
        frontends.iter().any(|p| p["name"] == "aicr-cli"),
        "aicr-cli is not a workspace package"
    );
    let mut violations = Vec::new();
    for frontend in frontends {
        for dep in frontend["dependencies"].as_array().unwrap() {
            let name = dep["name"].as_str().unwrap();
            if BEHIND_THE_FACADE.contains(&name) {
                let kind = dep["kind"].as_str().unwrap_or("normal");
                violations.push(format!(
                    "{} has {name} as a {kind} dependency",
                    frontend["name"]
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "frontends reach the library crates only through `aicr`:\n{}",
        violations.join("\n")
    );
}

#[test]
fn core_and_bundle_do_not_depend_on_collect() {
    let packages = workspace_packages();
    let mut seen = 0;
    for package in packages
        .iter()
        .filter(|p| NOT_ON_COLLECT.contains(&p["name"].as_str().unwrap()))
    {
        seen += 1;
        for dep in package["dependencies"].as_array().unwrap() {
            assert_ne!(
                dep["name"], "aicr-collect",
                "{} depends on aicr-collect",
                package["name"]
            );
        }
    }
    assert_eq!(
        seen,
        NOT_ON_COLLECT.len(),
        "a crate of {NOT_ON_COLLECT:?} is missing"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Paths that name a library crate, directly or through the facade.
const LIBRARY_PATHS: [&str; 6] = [
    "aicr_core",
    "aicr_bundle",
    "aicr_collect",
    "aicr::core",
    "aicr::bundle",
    "aicr::collect",
];

/// The library-crate paths `source` names: `aicr_core`, `aicr_bundle`,
/// `aicr_collect`, `aicr::core`, `aicr::bundle`, `aicr::collect`, and
/// `core`/`bundle`/`collect` inside a `use aicr::{...}` group.
fn library_paths_named(source: &str) -> Vec<String> {
    let mut found: Vec<String> = LIBRARY_PATHS
        .iter()
        .filter(|p| {
            source.match_indices(*p).any(|(at, _)| {
                let before = source[..at].chars().next_back();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
        .map(|p| p.to_string())
        .collect();
    for (at, _) in source.match_indices("aicr::{") {
        let group = &source[at + "aicr::{".len()..];
        let mut depth = 1;
        let end = group
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(group.len(), |(i, _)| i);
        // Only top-level items of the group: `core`, `core::x`, `bundle::{..}`,
        // `collect`.
        let mut depth = 0;
        let mut item = String::new();
        for c in group[..end].chars().chain([',']) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    let head = item.trim().split("::").next().unwrap_or("").trim();
                    if matches!(head, "core" | "bundle" | "collect") {
                        found.push(format!("aicr::{{{}}}", item.trim()));
                    }
                    item.clear();
                    continue;
                }
                _ => {}
            }
            if depth == 0 {
                item.push(c);
            }
        }
    }
    found
}

#[test]
fn library_path_detection_sees_every_form() {
    assert_eq!(library_paths_named("use aicr_core::Code;"), ["aicr_core"]);
    assert_eq!(
        library_paths_named("aicr::bundle::verify::x"),
        ["aicr::bundle"]
    );
    assert_eq!(
        library_paths_named("use aicr::{Client, core::yaml, bundle};"),
        ["aicr::{core::yaml}", "aicr::{bundle}"]
    );
    assert!(library_paths_named("use aicr::{Client, Error}; client.bundle(&r)").is_empty());
    assert_eq!(
        library_paths_named("use aicr_collect::gpu; use aicr::{collect::os};"),
        ["aicr_collect", "aicr::{collect::os}"]
    );
    assert!(library_paths_named("my_aicr_core_thing").is_empty());
}

#[test]
fn frontend_sources_name_no_library_crate_paths() {
    let mut files = Vec::new();
    for frontend in FRONTENDS {
        rust_files(
            &repo_root().join("crates").join(frontend).join("src"),
            &mut files,
        );
    }
    assert!(!files.is_empty(), "no frontend sources found");
    let mut violations = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for path in library_paths_named(&source) {
            let rel = file.strip_prefix(repo_root()).unwrap_or(file);
            violations.push(format!("{}: names {path}", rel.display()));
        }
    }
    assert!(
        violations.is_empty(),
        "frontends use the facade's own API, not the library crates:\n{}",
        violations.join("\n")
    );
}
