//! `aicr bundle --vendor-charts`: charts from a classic Helm repository on
//! loopback written into the bundle, and nothing written when one fails.
//! (The facade's tests cover every deployer with charts Helm packaged.)

use std::path::Path;

use serde_json::Value;

use crate::support::run;

/// Serves `files` (path → bytes) over HTTP on loopback; 404 otherwise.
fn serve(files: Vec<(String, Vec<u8>)>) -> String {
    aicr_test_support::http_server(move |path| match files.iter().find(|(p, _)| p == path) {
        Some((_, body)) => ("200 OK", body.clone()),
        None => ("404 Not Found", Vec::new()),
    })
}

/// A real recipe cut to its first two chart components, whose charts
/// become `demo-a` 0.1.0 and `demo-b` 1.2.0 in `repo`; written as JSON
/// (which is YAML) to `dir/recipe.yaml`.
fn recipe(dir: &Path, repo: &str) -> String {
    let path = dir.join("recipe.yaml");
    crate::support::write_recipe(&path);
    let mut doc = aicr_test_support::yaml(&std::fs::read_to_string(&path).unwrap());
    let refs = doc["componentRefs"].as_array().unwrap().clone();
    let keep: Vec<Value> = refs
        .into_iter()
        .filter(|c| {
            c["source"].as_str().is_some_and(|s| !s.is_empty()) && c.get("dependencyRefs").is_none()
        })
        .take(2)
        .enumerate()
        .map(|(i, mut c)| {
            c["source"] = repo.into();
            c["chart"] = ["demo-a", "demo-b"][i].into();
            c["version"] = ["0.1.0", "1.2.0"][i].into();
            c
        })
        .collect();
    assert_eq!(keep.len(), 2);
    doc["deploymentOrder"] = keep.iter().map(|c| c["name"].clone()).collect();
    doc["componentRefs"] = Value::Array(keep);
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn repository(digest_a: &str, archive: &[u8]) -> String {
    let sha = sha256_hex(archive);
    let index = format!(
        "apiVersion: v1\nentries:\n  demo-a:\n    - version: 0.1.0\n      urls: [demo-a-0.1.0.tgz]\n      digest: {digest_a}\n  demo-b:\n    - version: 1.2.0\n      urls: [demo-b-1.2.0.tgz]\n      digest: {sha}\n"
    );
    let base = serve(vec![
        ("/charts/index.yaml".into(), index.into_bytes()),
        ("/charts/demo-a-0.1.0.tgz".into(), archive.to_vec()),
        ("/charts/demo-b-1.2.0.tgz".into(), archive.to_vec()),
    ]);
    format!("{base}/charts")
}

#[test]
fn vendored_charts_are_written_into_the_bundle_and_checksummed() {
    let work = tempfile::tempdir().unwrap();
    let archive = b"stand-in archive".to_vec();
    let repo = repository(&sha256_hex(&archive), &archive);
    let recipe = recipe(work.path(), &repo);
    let out = work.path().join("bundle");
    let (code, _, err) = run([
        "bundle",
        "-r",
        &recipe,
        "--vendor-charts",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("vendor-charts: [2/2] fetched"), "{err}");
    assert_eq!(
        std::fs::read(out.join("charts/demo-a-0.1.0.tgz")).unwrap(),
        archive
    );
    let sums = std::fs::read_to_string(out.join("checksums.txt")).unwrap();
    assert!(sums.contains("  charts/demo-b-1.2.0.tgz"), "{sums}");
    let (code, _, err) = run(["verify", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_digest_mismatch_fails_the_bundle_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let repo = repository(&"0".repeat(64), b"tampered");
    let recipe = recipe(work.path(), &repo);
    let out = work.path().join("bundle");
    let (code, _, err) = run([
        "bundle",
        "-r",
        &recipe,
        "--vendor-charts",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("UNAUTHORIZED") || err.contains("SHA-256"),
        "{err}"
    );
    assert!(err.contains("demo-a 0.1.0"), "{err}");
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn without_the_flag_the_bundle_names_the_repository() {
    let work = tempfile::tempdir().unwrap();
    let repo = repository(&"0".repeat(64), b"unused");
    let recipe = recipe(work.path(), &repo);
    let out = work.path().join("bundle");
    let (code, _, err) = run(["bundle", "-r", &recipe, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.join("charts").exists());
    let envs: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path().join("upstream.env")).ok())
        .collect();
    assert_eq!(envs.len(), 2);
    assert!(
        envs.iter().all(|e| e.contains(&format!("REPO='{repo}'"))),
        "{envs:?}"
    );
}
