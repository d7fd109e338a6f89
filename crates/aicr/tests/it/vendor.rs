//! `--vendor-charts` against a classic Helm repository on loopback: charts
//! packaged and indexed by Helm's own code (`helm-python-sdk` in the tools
//! venv of `scripts/install_real_tools.sh`), or hand-written indexes for
//! the failures that need no real chart.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use aicr::{ChartFetch, Client, Code, Deployer, FetchedFiles, RecipeResult};
use aicr_core::criteria::{Accelerator, Criteria, Intent, Os, Platform, Service};
use aicr_test_support::repo_root;

/// Serves the files under `root` (GET `/<path>`), 404 for the rest.
fn serve(root: PathBuf) -> String {
    aicr_test_support::http_server(move |path| {
        let path = path.trim_start_matches('/');
        match std::fs::read(root.join(path)) {
            Ok(body) if !path.contains("..") => ("200 OK", body),
            _ => ("404 Not Found", Vec::new()),
        }
    })
}

/// Accepts connections and never answers.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // Held open, never read: the client waits until its deadline.
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    base
}

/// The tools venv's Python, or `None` (after saying why) when it is not
/// installed; with `AICR_REQUIRE_REAL_TOOLS` set, a missing venv fails.
fn venv_python() -> Option<PathBuf> {
    let python = repo_root().join("target/tools/venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
        "real tools are required but {} is missing: run scripts/install_real_tools.sh",
        python.display()
    );
    eprintln!("skipping: helm-python-sdk not installed (run scripts/install_real_tools.sh)");
    None
}

/// Packages `demo-a` 0.1.0 and `demo-b` 1.2.0 with Helm's packager into
/// `<dir>/charts` and indexes them there (`helm repo index`, relative URLs).
fn helm_repository(python: &Path, dir: &Path) {
    for (name, version) in [("demo-a", "0.1.0"), ("demo-b", "1.2.0")] {
        let chart = dir.join("src").join(name);
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        )
        .unwrap();
        std::fs::write(chart.join("values.yaml"), "greeting: from-chart\n").unwrap();
        std::fs::write(
            chart.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
        )
        .unwrap();
    }
    let script = "import sys, helm_python as h
src, out = sys.argv[1], sys.argv[2]
for name in ('demo-a', 'demo-b'):
    h.package(src + '/' + name, destination=out)
h.repo_index_generate(out)
";
    let status = Command::new(python)
        .args(["-c", script])
        .arg(dir.join("src"))
        .arg(dir.join("charts"))
        .status()
        .unwrap();
    assert!(status.success(), "helm packaging failed");
}

/// A real recipe cut down to its first two chart components, whose charts
/// become `demo-a` 0.1.0 and `demo-b` `b_version` in `repo`.
fn recipe(client: &Client, repo: &str, b_version: &str) -> RecipeResult {
    let mut recipe = client
        .recipe(&Criteria {
            service: Service::parse("eks").unwrap(),
            accelerator: Accelerator::parse("h100").unwrap(),
            os: Os::parse("any").unwrap(),
            intent: Intent::parse("training").unwrap(),
            platform: Platform::parse("any").unwrap(),
            nodes: 0,
        })
        .unwrap();
    let mut keep: Vec<String> = Vec::new();
    for name in &recipe.deployment_order {
        let c = recipe
            .component_refs
            .iter()
            .find(|c| &c.name == name)
            .unwrap();
        if !c.source.is_empty()
            && c.tag.is_empty()
            && c.dependency_refs.iter().all(|d| keep.contains(d))
        {
            keep.push(name.clone());
        }
        if keep.len() == 2 {
            break;
        }
    }
    recipe.component_refs.retain(|c| keep.contains(&c.name));
    recipe.deployment_order.retain(|n| keep.contains(n));
    for c in &mut recipe.component_refs {
        let first = *c.name == keep[0];
        c.source = repo.to_string();
        c.chart = if first { "demo-a" } else { "demo-b" }.to_string();
        c.version = if first { "0.1.0" } else { b_version }.to_string();
    }
    recipe
}

fn options(deployer: Deployer) -> aicr::BundleOptions {
    let mut o = aicr::BundleRequest {
        deployer: Some(deployer.as_str().into()),
        repo: Some("https://git.example.com/gitops.git".into()),
        ..Default::default()
    }
    .options()
    .unwrap();
    o.vendor_charts = true;
    o
}

fn quick() -> ChartFetch {
    ChartFetch {
        timeout: std::time::Duration::from_millis(400),
        attempts: 2,
        backoff: std::time::Duration::from_millis(10),
        ..ChartFetch::default()
    }
}

fn text(tree: &aicr::FileTree, path: &str) -> String {
    let file = tree
        .get(path)
        .unwrap_or_else(|| panic!("{path} is missing"));
    String::from_utf8(file.bytes.clone()).unwrap()
}

#[test]
fn every_deployer_installs_the_vendored_archives_from_the_bundle() {
    let Some(python) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    helm_repository(&python, dir.path());
    let repo = format!("{}/charts", serve(dir.path().to_path_buf()));
    let client = Client::embedded().unwrap();
    let recipe = recipe(&client, &repo, "1.2.0");
    let archive = std::fs::read(dir.path().join("charts/demo-a-0.1.0.tgz")).unwrap();
    let (a, b) = (&recipe.deployment_order[0], &recipe.deployment_order[1]);
    for deployer in Deployer::ALL {
        let options = options(deployer);
        let fetched = FetchedFiles::default();
        let charts = aicr::block_on(client.fetch_charts(&recipe, &options, &fetched, &quick()))
            .unwrap_or_else(|e| panic!("{deployer:?}: {e}"));
        let (tree, records) = client
            .render_bundle_with(&recipe, &options, &fetched, &charts, None)
            .unwrap();
        assert_eq!(records.len(), 2, "{deployer:?}");
        let rec = records.iter().find(|r| &r.component == a).unwrap();
        assert_eq!(rec.url, format!("{repo}/demo-a-0.1.0.tgz"));
        assert_eq!(rec.sha256, aicr_bundle::checksum::sha256_hex(&archive));
        assert_eq!(tree.get(&rec.path).unwrap().bytes, archive, "{deployer:?}");
        let checksums = text(&tree, "checksums.txt");
        assert!(
            checksums.contains(&format!("{}  {}", rec.sha256, rec.path)),
            "{checksums}"
        );
        // The bill of materials names the archive and its digest.
        let bom: serde_json::Value = serde_json::from_str(&text(&tree, "bom.cdx.json")).unwrap();
        let entry = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["bom-ref"] == a.as_str())
            .unwrap();
        assert_eq!(
            entry["hashes"][0]["content"],
            rec.sha256.as_str(),
            "{deployer:?}"
        );
        assert!(
            entry["properties"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "aicr:vendored-archive" && p["value"] == rec.path.as_str()),
            "{entry}"
        );
        let all: String = tree
            .iter()
            .filter(|(p, _)| p.as_str() != "bom.cdx.json")
            .map(|(p, f)| format!("{p}\n{}", String::from_utf8_lossy(&f.bytes)))
            .collect();
        assert!(
            !all.contains(&format!("repoURL: {repo}"))
                && !all.contains(&format!("url: {repo}"))
                && !all.contains(&format!("REPO='{repo}'")),
            "{deployer:?} still names the chart repository"
        );
        match deployer {
            Deployer::Helm => {
                assert_eq!(rec.path, "charts/demo-a-0.1.0.tgz");
                assert!(
                    text(&tree, &format!("001-{a}/upstream.env"))
                        .contains("CHART='../charts/demo-a-0.1.0.tgz'")
                );
            }
            Deployer::Helmfile => {
                let h = text(&tree, "helmfile.yaml");
                assert!(
                    h.contains("chart: ./charts/demo-a-0.1.0.tgz")
                        && h.contains("chart: ./charts/demo-b-1.2.0.tgz"),
                    "{h}"
                );
                assert!(!h.contains("repositories:"), "{h}");
            }
            Deployer::Argocd => {
                let dir_a = format!("001-{a}");
                assert_eq!(rec.path, format!("{dir_a}/charts/demo-a-0.1.0.tgz"));
                let app = text(&tree, &format!("{dir_a}/application.yaml"));
                assert!(
                    app.contains(&format!("path: {dir_a}\n")) && !app.contains("chart:"),
                    "{app}"
                );
                assert!(
                    text(&tree, &format!("{dir_a}/Chart.yaml"))
                        .contains("  - name: demo-a\n    version: '0.1.0'\n    repository: \"\"\n")
                );
                assert!(
                    text(&tree, &format!("{dir_a}/values.yaml"))
                        .lines()
                        .any(|l| l == "demo-a:")
                );
            }
            Deployer::ArgocdHelm => {
                let app = text(&tree, &format!("templates/{a}.yaml"));
                assert!(
                    app.contains(&format!("path: 001-{a}\n")) && app.contains("dict \"demo-a\""),
                    "{app}"
                );
            }
            Deployer::Flux => {
                assert_eq!(rec.path, "charts/demo-a-0.1.0.tgz");
                let release = text(&tree, &format!("{b}/helmrelease.yaml"));
                assert!(
                    release.contains("chart: ./charts/demo-b-1.2.0.tgz")
                        && release.contains("kind: GitRepository"),
                    "{release}"
                );
                assert!(!tree.iter().any(|(p, _)| p.contains("helmrepo-")));
            }
        }
    }
}

#[test]
fn an_argocd_wrapper_chart_renders_its_vendored_chart_with_helm() {
    let Some(python) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    helm_repository(&python, dir.path());
    let repo = format!("{}/charts", serve(dir.path().to_path_buf()));
    let client = Client::embedded().unwrap();
    let mut recipe = recipe(&client, &repo, "1.2.0");
    let a = recipe.deployment_order[0].clone();
    recipe.component_refs.retain(|c| c.name == a);
    recipe.deployment_order.truncate(1);
    let mut options = options(Deployer::Argocd);
    options
        .sets
        .push(aicr_core::values::SetOverride::parse(&format!("{a}:greeting=from-recipe")).unwrap());
    let fetched = FetchedFiles::default();
    let charts =
        aicr::block_on(client.fetch_charts(&recipe, &options, &fetched, &quick())).unwrap();
    let (tree, _) = client
        .render_bundle_with(&recipe, &options, &fetched, &charts, None)
        .unwrap();
    let out = dir.path().join("bundle");
    client.write_bundle(&tree, &out, false).unwrap();
    // Helm's loader and renderer, as Argo CD's repo server runs them on
    // the folder: the subchart comes from charts/, its values from under
    // its name.
    let script = "import sys, helm_python as h
c = h.Chart.load(sys.argv[1])
out = c.render({})
print('\\n'.join(out.values()))
";
    let run = Command::new(&python)
        .args(["-c", script])
        .arg(out.join(format!("001-{a}")))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("greeting: \"from-recipe\""), "{stdout}");
}

#[test]
fn deploy_sh_installs_from_the_bundled_archives_without_a_repository() {
    let Some(python) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    helm_repository(&python, dir.path());
    let repo = format!("{}/charts", serve(dir.path().to_path_buf()));
    let client = Client::embedded().unwrap();
    let recipe = recipe(&client, &repo, "1.2.0");
    let options = options(Deployer::Helm);
    let fetched = FetchedFiles::default();
    let charts =
        aicr::block_on(client.fetch_charts(&recipe, &options, &fetched, &quick())).unwrap();
    let (tree, _) = client
        .render_bundle_with(&recipe, &options, &fetched, &charts, None)
        .unwrap();
    let out = dir.path().join("bundle");
    client.write_bundle(&tree, &out, false).unwrap();

    // A stub helm (and kubectl) first on PATH that records its arguments;
    // the proxy points nowhere, so any network use would fail.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.path().join("calls.log");
    for tool in ["helm", "kubectl"] {
        let stub = bin.join(tool);
        std::fs::write(
            &stub,
            format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\n", log.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Command::new("bash")
        .arg(out.join("deploy.sh"))
        .env("PATH", path)
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        run.status.success(),
        "{}\n{calls}",
        String::from_utf8_lossy(&run.stderr)
    );
    let installs: Vec<&str> = calls
        .lines()
        .filter(|l| l.starts_with("helm upgrade --install"))
        .collect();
    assert_eq!(installs.len(), 2, "{calls}");
    for (install, file) in installs
        .iter()
        .zip(["demo-a-0.1.0.tgz", "demo-b-1.2.0.tgz"])
    {
        assert!(
            install.contains(&format!(" ../charts/{file} ")),
            "{install}"
        );
        assert!(!install.contains("--repo"), "{install}");
    }
}

/// A repository at `base/charts` whose index lists `demo-a` 0.1.0 with
/// `digest`, the archive holding `archive`.
fn hand_written_repository(digest: &str, archive: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("charts")).unwrap();
    std::fs::write(
        dir.path().join("charts/index.yaml"),
        format!("apiVersion: v1\nentries:\n  demo-a:\n    - name: demo-a\n      version: 0.1.0\n      urls: [demo-a-0.1.0.tgz]\n      digest: {digest}\n  demo-b:\n    - name: demo-b\n      version: 1.2.0\n      urls: [demo-b-1.2.0.tgz]\n      digest: {}\n", aicr_bundle::checksum::sha256_hex(archive)),
    )
    .unwrap();
    std::fs::write(dir.path().join("charts/demo-a-0.1.0.tgz"), archive).unwrap();
    std::fs::write(dir.path().join("charts/demo-b-1.2.0.tgz"), archive).unwrap();
    let base = serve(dir.path().to_path_buf());
    (dir, format!("{base}/charts"))
}

fn fetch_error(repo: &str, b_version: &str) -> aicr::Error {
    let client = Client::embedded().unwrap();
    let recipe = recipe(&client, repo, b_version);
    let options = options(Deployer::Helm);
    aicr::block_on(client.fetch_charts(&recipe, &options, &FetchedFiles::default(), &quick()))
        .unwrap_err()
}

#[test]
fn an_archive_without_the_index_digest_is_unauthorized() {
    let (_dir, repo) = hand_written_repository(&"0".repeat(64), b"not what the index says");
    let err = fetch_error(&repo, "1.2.0");
    assert_eq!(err.code(), Code::Unauthorized, "{err}");
    assert!(err.to_string().contains("demo-a 0.1.0"), "{err}");
}

#[test]
fn a_version_the_index_lacks_is_not_found() {
    let archive = b"archive";
    let (_dir, repo) =
        hand_written_repository(&aicr_bundle::checksum::sha256_hex(archive), archive);
    let err = fetch_error(&repo, "9.9.9");
    assert_eq!(err.code(), Code::NotFound, "{err}");
    assert!(err.to_string().contains("no version \"9.9.9\""), "{err}");
}

#[test]
fn a_repository_that_never_answers_times_out_after_retrying() {
    let base = silent_server();
    let err = fetch_error(&format!("{base}/charts"), "1.2.0");
    assert_eq!(err.code(), Code::Timeout, "{err}");
    assert!(err.to_string().contains("after 2 attempts"), "{err}");
}

/// Charts that `helm push` (Helm's own registry client) stored in a real
/// registry on loopback are vendored like classic ones: the archive is
/// the pushed one, its digest the registry's layer digest, and every
/// deployer installs it from the bundle.
#[test]
fn charts_in_an_oci_registry_are_pulled_and_checked() {
    use aicr_test_support::registry::{Registry, RegistryConfig, tools_or_skip};
    let Some(python) = venv_python() else { return };
    if !tools_or_skip(&["docker-registry"]) {
        return;
    }
    let registry = Registry::start(&RegistryConfig::default());
    let dir = tempfile::tempdir().unwrap();
    helm_repository(&python, dir.path());
    let remote = format!("oci://{}/charts", registry.host);
    let script = "import sys, helm_python as h
for tgz in sys.argv[2:]:
    h.push(tgz, sys.argv[1], plain_http=True)
";
    let status = Command::new(&python)
        .args(["-c", script, &remote])
        .arg(dir.path().join("charts/demo-a-0.1.0.tgz"))
        .arg(dir.path().join("charts/demo-b-1.2.0.tgz"))
        .status()
        .unwrap();
    assert!(status.success(), "helm push failed: {}", registry.log());

    let client = Client::embedded().unwrap();
    let wanted = recipe(&client, &remote, "1.2.0");
    let settings = ChartFetch {
        registry: aicr::RegistryOptions {
            plain_http: true,
            ..aicr::RegistryOptions::default()
        },
        ..quick()
    };
    let archive = std::fs::read(dir.path().join("charts/demo-b-1.2.0.tgz")).unwrap();
    for deployer in Deployer::ALL {
        let options = options(deployer);
        let fetched = FetchedFiles::default();
        let charts = aicr::block_on(client.fetch_charts(&wanted, &options, &fetched, &settings))
            .unwrap_or_else(|e| panic!("{deployer:?}: {e}"));
        let (tree, records) = client
            .render_bundle_with(&wanted, &options, &fetched, &charts, None)
            .unwrap();
        let rec = records.iter().find(|r| r.chart == "demo-b").unwrap();
        assert_eq!(rec.url, format!("{remote}/demo-b:1.2.0"));
        assert_eq!(rec.sha256, aicr_bundle::checksum::sha256_hex(&archive));
        assert_eq!(tree.get(&rec.path).unwrap().bytes, archive, "{deployer:?}");
    }

    // A version the registry lacks is NOT_FOUND, and nothing is fetched.
    let missing = recipe(&client, &remote, "9.9.9");
    let options = options(Deployer::Helm);
    let err = aicr::block_on(client.fetch_charts(
        &missing,
        &options,
        &FetchedFiles::default(),
        &settings,
    ))
    .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err}");
}

/// An OCI artifact that is not a Helm chart (here, a pushed AICR bundle)
/// is refused, not unpacked as one.
#[test]
fn an_oci_artifact_that_is_not_a_chart_is_refused() {
    use aicr_test_support::registry::{Registry, RegistryConfig, tools_or_skip};
    if !tools_or_skip(&["docker-registry"]) {
        return;
    }
    let registry = Registry::start(&RegistryConfig::default());
    let client = Client::embedded().unwrap();
    let plain = aicr::RegistryOptions {
        plain_http: true,
        ..aicr::RegistryOptions::default()
    };
    let mut tree = aicr::FileTree::new();
    tree.insert("README.md", "not a chart\n");
    for (name, version) in [("demo-a", "0.1.0"), ("demo-b", "1.2.0")] {
        let at = format!("oci://{}/charts/{name}:{version}", registry.host);
        let reference = aicr::OciReference::parse(&at).unwrap();
        client
            .push_bundle_blocking(&tree, &reference, &plain)
            .unwrap();
    }
    let settings = ChartFetch {
        registry: plain,
        ..quick()
    };
    let wanted = recipe(&client, &format!("oci://{}/charts", registry.host), "1.2.0");
    let err = aicr::block_on(client.fetch_charts(
        &wanted,
        &options(Deployer::Helm),
        &FetchedFiles::default(),
        &settings,
    ))
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    assert!(err.to_string().contains("not a Helm chart"), "{err}");
}
