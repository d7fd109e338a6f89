//! `aicr bundle -o oci://...`, `aicr pull` and `aicr verify oci://...`
//! against a real registry on loopback (`aicr_test_support::registry`:
//! the CNCF distribution registry), read back independently with skopeo.
//! Without docker-registry, skopeo, htpasswd or openssl these tests say
//! so and skip, unless `AICR_REQUIRE_REAL_TOOLS` is set, when they fail.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use aicr_test_support::registry::{Registry, RegistryConfig, tools_or_skip};
use serde_json::Value;

/// Runs `aicr` with `args`, extra environment and optional stdin; the
/// Docker config is an empty directory unless `env` names another.
fn aicr(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> (i32, String, String) {
    let empty = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_aicr"));
    command
        .args(args)
        .env("DOCKER_CONFIG", empty.path())
        .env_remove("SSL_CERT_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("aicr runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    aicr_test_support::output_text(child.wait_with_output().unwrap())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A recipe from the embedded catalog, written into `dir`.
fn recipe(dir: &Path) -> String {
    let path = dir.join("recipe.yaml");
    crate::support::write_recipe(&path);
    path.display().to_string()
}

/// The manifest and its digest that `oci-layout:` output gives for the
/// same recipe: what we computed, to compare with what the registry holds.
fn our_manifest(recipe: &str, dir: &Path, deployer: &str) -> (Value, String) {
    let layout = dir.join(format!("layout-{deployer}"));
    let target = format!("oci-layout:{}", layout.display());
    let (code, _, err) = aicr(
        &["bundle", "-r", recipe, "-d", deployer, "-o", &target],
        &[],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = layout.join("blobs/sha256").join(&digest[7..]);
    let bytes = std::fs::read(blob).unwrap();
    assert_eq!(
        sha256_hex(&bytes),
        digest[7..],
        "the layout's manifest blob is named by its digest"
    );
    (serde_json::from_slice(&bytes).unwrap(), digest)
}

#[test]
fn a_bundle_pushed_over_plain_http_reads_back_pulls_and_verifies() {
    if !tools_or_skip(&["docker-registry", "skopeo"]) {
        return;
    }
    let registry = Registry::start(&RegistryConfig::default());
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    let reference = format!("oci://{}/gpu/bundle:t1", registry.host);
    let refs = tmp.path().join("refs.txt");
    let refs_s = refs.display().to_string();
    let push = |deployer: &str| {
        aicr(
            &[
                "bundle",
                "-r",
                &recipe,
                "-d",
                deployer,
                "-o",
                &reference,
                "--plain-http",
                "--image-refs",
                &refs_s,
            ],
            &[],
            None,
        )
    };
    let (code, _, err) = push("helm");
    assert_eq!(code, 0, "{err}\n{}", registry.log());
    let (ours, digest) = our_manifest(&recipe, tmp.path(), "helm");
    let recorded = std::fs::read_to_string(&refs).unwrap();
    assert_eq!(
        recorded,
        format!("{}/gpu/bundle:t1@{digest}\n", registry.host)
    );
    assert!(
        !tmp.path().join("bundle").exists(),
        "nothing is written locally"
    );

    // The registry's copy, read by another client.
    let docker_ref = format!("docker://{}/gpu/bundle:t1", registry.host);
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &docker_ref]);
    assert_eq!(format!("sha256:{}", sha256_hex(raw.as_bytes())), digest);
    let theirs: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        theirs["artifactType"],
        "application/vnd.nvidia.aicr.artifact"
    );
    assert_eq!(
        theirs["annotations"]["org.opencontainers.image.created"],
        "1970-01-01T00:00:00Z"
    );
    assert_eq!(theirs["layers"][0]["digest"], ours["layers"][0]["digest"]);
    assert_eq!(
        theirs["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    // skopeo copies the artifact out: the layer blob it stored is ours.
    let copied = tmp.path().join("copied");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &docker_ref,
        &format!("oci:{}:t1", copied.display()),
    ]);
    let layer_digest = ours["layers"][0]["digest"].as_str().unwrap();
    let layer = std::fs::read(copied.join("blobs/sha256").join(&layer_digest[7..])).unwrap();
    assert_eq!(sha256_hex(&layer), layer_digest[7..]);

    // Pushing again gives the same digest.
    std::fs::remove_file(&refs).unwrap();
    let (code, _, err) = push("helm");
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&refs).unwrap(), recorded);

    // Pull by tag and by digest; both verify and equal a local bundle.
    let local = tmp.path().join("local");
    let (code, _, err) = aicr(
        &["bundle", "-r", &recipe, "-o", &local.display().to_string()],
        &[],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let by_digest = format!("oci://{}/gpu/bundle@{digest}", registry.host);
    for (i, source) in [reference.as_str(), by_digest.as_str()].iter().enumerate() {
        let pulled = tmp.path().join(format!("pulled-{i}"));
        let pulled_s = pulled.display().to_string();
        let (code, _, err) = aicr(
            &["pull", source, "--plain-http", "-o", &pulled_s],
            &[],
            None,
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            aicr_test_support::read_tree(&pulled),
            aicr_test_support::read_tree(&local)
        );
        let (code, out, err) = aicr(&["verify", &pulled_s], &[], None);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = aicr(&["verify", source, "--plain-http"], &[], None);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("verified"), "{out}");
        assert!(out.contains(&digest), "{out}");
    }
    // A second pull over the previous one needs no --force; over a
    // foreign directory it does.
    let pulled_s = tmp.path().join("pulled-0").display().to_string();
    let (code, _, err) = aicr(
        &["pull", &reference, "--plain-http", "-o", &pulled_s],
        &[],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let foreign_s = foreign.display().to_string();
    let (code, _, err) = aicr(
        &["pull", &reference, "--plain-http", "-o", &foreign_s],
        &[],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(foreign.join("notes.txt").exists());

    // A tag that is not there, and an artifact that is not a bundle.
    let missing = format!("oci://{}/gpu/bundle:nope", registry.host);
    let (code, _, err) = aicr(&["pull", &missing, "--plain-http"], &[], None);
    assert_eq!(code, 3, "{err}");
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:t1", copied.display()),
        &format!("docker://{}/gpu/other:t1", registry.host),
    ]);
    // The same artifact under another name still pulls: only content counts.
    let other = format!("oci://{}/gpu/other:t1", registry.host);
    let (code, out, err) = aicr(&["verify", &other, "--plain-http"], &[], None);
    assert_eq!(code, 0, "{out}{err}");

    // Argo CD without --repo: the bundle is synced from the registry.
    let (code, _, err) = push("argocd");
    assert_eq!(code, 0, "{err}");
    let argo = tmp.path().join("argo");
    let argo_s = argo.display().to_string();
    let (code, _, err) = aicr(
        &["pull", &reference, "--plain-http", "-o", &argo_s],
        &[],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let app = std::fs::read_to_string(argo.join("app-of-apps.yaml")).unwrap();
    assert!(
        app.contains(&format!("repoURL: {}/gpu/bundle", registry.host)),
        "{app}"
    );
    assert!(app.contains("targetRevision: 't1'"), "{app}");
}

#[test]
fn tls_with_a_private_ca_and_basic_auth() {
    if !tools_or_skip(&["docker-registry", "skopeo", "htpasswd", "openssl"]) {
        return;
    }
    let registry = Registry::start(&RegistryConfig {
        tls: true,
        user: Some(("ci".into(), "s3cret-pass".into())),
    });
    let ca = registry.ca_file.clone().unwrap().display().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    let reference = format!("oci://{}/secure/bundle:v1", registry.host);
    let push = |extra: &[&str], env: &[(&str, &str)], stdin: Option<&str>| {
        let mut args = vec!["bundle", "-r", &recipe, "-o", &reference];
        args.extend_from_slice(extra);
        aicr(&args, env, stdin)
    };
    let login = ["--registry-username", "ci", "--registry-password-stdin"];
    let trust = [("SSL_CERT_FILE", ca.as_str())];

    // The CA trusted through SSL_CERT_FILE, the password on stdin.
    let (code, _, err) = push(&login, &trust, Some("s3cret-pass\n"));
    assert_eq!(code, 0, "{err}\n{}", registry.log());
    assert!(!err.contains("s3cret"), "{err}");

    // A wrong password is UNAUTHORIZED (exit 4) and never printed.
    let (code, _, err) = push(&login, &trust, Some("wrong-pass\n"));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("refused the credentials of user ci"), "{err}");
    assert!(!err.contains("wrong-pass"), "{err}");
    // No credentials at all: UNAUTHORIZED, saying how to log in.
    let (code, _, err) = push(&[], &trust, None);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("--registry-password-stdin"), "{err}");

    // Without the CA the certificate is unknown; --insecure-tls accepts it.
    let (code, _, err) = push(&login, &[], Some("s3cret-pass\n"));
    assert_eq!(code, 6, "{err}");
    let mut insecure = login.to_vec();
    insecure.push("--insecure-tls");
    let (code, _, err) = push(&insecure, &[], Some("s3cret-pass\n"));
    assert_eq!(code, 0, "{err}");

    // Credentials from a Docker config file.
    let docker = tmp.path().join("docker");
    std::fs::create_dir(&docker).unwrap();
    let auth = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"ci:s3cret-pass")?;
            c.wait_with_output()
        })
        .unwrap();
    let auth = String::from_utf8(auth.stdout).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host),
    )
    .unwrap();
    let docker_s = docker.display().to_string();
    let pulled = tmp.path().join("pulled").display().to_string();
    let (code, _, err) = aicr(
        &["pull", &reference, "-o", &pulled],
        &[("SSL_CERT_FILE", &ca), ("DOCKER_CONFIG", &docker_s)],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = aicr(&["verify", &pulled], &[], None);
    assert_eq!(code, 0, "{out}{err}");

    // skopeo, trusting the same CA, reads what we pushed.
    let cert_dir = registry.cert_dir.clone().unwrap().display().to_string();
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--cert-dir",
        &cert_dir,
        "--creds",
        "ci:s3cret-pass",
        &format!("docker://{}/secure/bundle:v1", registry.host),
    ]);
    let theirs: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        theirs["artifactType"],
        "application/vnd.nvidia.aicr.artifact"
    );
}

#[test]
fn an_oci_layout_is_read_by_skopeo() {
    if !tools_or_skip(&["skopeo"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    let (ours, digest) = our_manifest(&recipe, tmp.path(), "flux");
    let layout = tmp.path().join("layout-flux");
    assert_eq!(
        std::fs::read_to_string(layout.join("oci-layout")).unwrap(),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let raw = skopeo(&["inspect", "--raw", &format!("oci:{}", layout.display())]);
    assert_eq!(format!("sha256:{}", sha256_hex(raw.as_bytes())), digest);
    assert_eq!(serde_json::from_str::<Value>(&raw).unwrap(), ours);
    // The same recipe gives the same layout digest every time.
    let (_, again) = our_manifest(&recipe, tmp.path(), "flux");
    assert_eq!(again, digest);
}

#[test]
fn registry_flags_are_checked_before_anything_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    let (code, _, err) = aicr(
        &[
            "bundle",
            "-r",
            &recipe,
            "-o",
            "oci://localhost:1/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ],
        &[],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("under a tag, not a digest"), "{err}");
    let (code, _, err) = aicr(
        &[
            "bundle",
            "-r",
            &recipe,
            "--image-refs",
            "x.txt",
            "-o",
            &tmp.path().join("d").display().to_string(),
        ],
        &[],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--image-refs"), "{err}");
    let (code, _, err) = aicr(
        &[
            "bundle",
            "-r",
            "-",
            "-o",
            "oci://localhost:1/a/b",
            "--registry-username",
            "u",
            "--registry-password-stdin",
        ],
        &[],
        Some("pw\n"),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("both read standard input"), "{err}");
    let (code, _, err) = aicr(&["pull", "ghcr.io/a/b:v1"], &[], None);
    assert_eq!(code, 2, "{err}");
    // Nobody listens on port 1: SERVICE_UNAVAILABLE.
    let (code, _, err) = aicr(
        &["pull", "oci://127.0.0.1:1/a/b:v1", "--plain-http"],
        &[],
        None,
    );
    assert_eq!(code, 6, "{err}");
}
