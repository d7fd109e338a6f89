//! Third-party manifests pinned by URL and SHA-256 in
//! `recipes/external-manifests.yaml`: fetched and verified at bundle time,
//! or, with no network, a clear error naming the file to pass via `--data`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;

use aicr_test_support::{catalog_copy, conformance_dir};

use crate::support::run;

const GATEWAY: &str = "components/agentgateway-crds/manifests/gateway-api-crds.yaml";
const INFERENCE: &str = "components/agentgateway-crds/manifests/inference-extension-crds.yaml";

/// The vendored copies whose digests the catalog pins, from `../shared`.
fn vendored(path: &str) -> Option<Vec<u8>> {
    let dir = conformance_dir()?;
    std::fs::read(dir.join("upstream-catalog").join(path)).ok()
}

/// Serves `files` (path → body) on loopback for exactly as many requests
/// as there are files, then stops by itself. Returns the base URL.
fn serve(files: Vec<(&'static str, Vec<u8>)>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        for stream in listener.incoming().take(files.len()) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() <= 2 {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or_default();
            let body = files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, b)| b.as_slice())
                .unwrap_or_default();
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            stream.write_all(body).unwrap();
        }
    });
    (base, server)
}

/// Points every external URL of a catalog copy at `base`.
fn repoint(catalog: &Path, base: &str) {
    let file = catalog.join("external-manifests.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace("https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml", &format!("{base}/gateway.yaml"))
        .replace(
            "https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/download/v1.3.0/manifests.yaml",
            &format!("{base}/inference.yaml"),
        );
    assert!(
        text.contains(base),
        "external-manifests.yaml URLs changed; update this test"
    );
    std::fs::write(file, text).unwrap();
}

/// Writes the eks/h100/ubuntu/inference/dynamo recipe (which needs the
/// Gateway API CRDs) resolved on `catalog` and returns its path.
fn inference_recipe(catalog: &Path, dir: &Path) -> String {
    let recipe = dir.join("recipe.yaml").to_str().unwrap().to_string();
    let args = [
        "recipe",
        "--catalog",
        catalog.to_str().unwrap(),
        "--service",
        "eks",
        "--gpu",
        "h100",
        "--os",
        "ubuntu",
        "--intent",
        "inference",
        "--platform",
        "dynamo",
        "-o",
        &recipe,
    ];
    assert_eq!(run(args).0, 0);
    recipe
}

fn bundle(catalog: &Path, recipe: &str, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "bundle",
        "--catalog",
        catalog.to_str().unwrap(),
        "-r",
        recipe,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = run(&args);
    (code, err)
}

#[test]
fn without_network_the_error_names_the_file_and_the_data_flag() {
    let catalog = catalog_copy();
    repoint(catalog.path(), "http://127.0.0.1:9");
    let work = tempfile::tempdir().unwrap();
    let recipe = inference_recipe(catalog.path(), work.path());
    let out = work.path().join("bundle");
    let (code, err) = bundle(catalog.path(), &recipe, &out, &[]);
    assert_eq!(
        code, 6,
        "an unreachable server is SERVICE_UNAVAILABLE: {err}"
    );
    assert!(err.contains(GATEWAY) && err.contains("--data DIR"), "{err}");
    assert!(err.contains("downloading it"), "{err}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn files_are_downloaded_and_verified() {
    let (Some(gateway), Some(inference)) = (vendored(GATEWAY), vendored(INFERENCE)) else {
        return;
    };
    let (base, server) = serve(vec![
        ("/gateway.yaml", gateway),
        ("/inference.yaml", inference),
    ]);
    let catalog = catalog_copy();
    repoint(catalog.path(), &base);
    let work = tempfile::tempdir().unwrap();
    let recipe = inference_recipe(catalog.path(), work.path());
    let out = work.path().join("bundle");
    let (code, err) = bundle(catalog.path(), &recipe, &out, &[]);
    server.join().unwrap();
    assert_eq!(code, 0, "{err}");
    let chart = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with("-agentgateway-crds-post"));
    assert!(chart.is_some(), "the CRDs land in a -post chart");
}

#[test]
fn files_given_through_data_are_verified() {
    let (Some(gateway), Some(inference)) = (vendored(GATEWAY), vendored(INFERENCE)) else {
        return;
    };
    let catalog = catalog_copy();
    repoint(catalog.path(), "http://127.0.0.1:9");
    let work = tempfile::tempdir().unwrap();
    let recipe = inference_recipe(catalog.path(), work.path());
    let data = work.path().join("data");
    std::fs::create_dir_all(data.join("components/agentgateway-crds/manifests")).unwrap();
    std::fs::write(
        data.join("registry.yaml"),
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents: []\n",
    )
    .unwrap();
    std::fs::write(data.join(GATEWAY), &gateway).unwrap();
    std::fs::write(data.join(INFERENCE), &inference).unwrap();
    let recipe_args = |out: &Path| {
        vec![
            "bundle".to_string(),
            "--data".into(),
            data.to_str().unwrap().into(),
            "-r".into(),
            recipe.clone(),
            "-o".into(),
            out.to_str().unwrap().into(),
        ]
    };
    // --data layers over the embedded catalog, whose pins are the same.
    let (code, _, err) = run(recipe_args(&work.path().join("ok")));
    assert_eq!(code, 0, "{err}");

    let mut tampered = gateway.clone();
    tampered.extend_from_slice(b"\n# edited\n");
    std::fs::write(data.join(GATEWAY), tampered).unwrap();
    let out = work.path().join("tampered");
    let (code, _, err) = run(recipe_args(&out));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("does not match"), "{err}");
    assert!(!out.exists());
}

#[test]
fn recipes_can_be_read_from_a_url() {
    let work = tempfile::tempdir().unwrap();
    let recipe = work.path().join("r.yaml");
    assert_eq!(
        run([
            "recipe",
            "--service",
            "eks",
            "--gpu",
            "h100",
            "--intent",
            "training",
            "-o",
            recipe.to_str().unwrap()
        ])
        .0,
        0
    );
    let (base, server) = serve(vec![("/r.yaml", std::fs::read(&recipe).unwrap())]);
    let out = work.path().join("bundle");
    let url = format!("{base}/r.yaml");
    let (code, _, err) = run(["bundle", "-r", &url, "-o", out.to_str().unwrap()]);
    server.join().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.join("checksums.txt").exists());
    let (code, _, err) = run([
        "bundle",
        "-r",
        "http://127.0.0.1:9/r.yaml",
        "-o",
        work.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 6, "{err}");
}

#[test]
fn snapshots_can_be_read_from_a_url() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/recipe-snapshot/eks-h100-old-kernel.yaml");
    let (base, server) = serve(vec![("/s.yaml", std::fs::read(fixture).unwrap())]);
    let url = format!("{base}/s.yaml");
    let (code, out, err) = run(["recipe", "--snapshot", &url, "--intent", "training"]);
    server.join().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("service: eks") && out.contains("name: h100-eks-ubuntu-training"));
    let (code, _, err) = run(["recipe", "--snapshot", "http://127.0.0.1:9/s.yaml"]);
    assert_eq!(
        code, 6,
        "an unreachable server is SERVICE_UNAVAILABLE: {err}"
    );
}
