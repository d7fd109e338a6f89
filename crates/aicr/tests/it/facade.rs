//! The facade's contract with every frontend: one `Client` serves
//! concurrent calls without sharing their downloads or failures, errors
//! keep their causes, and no message repeats a code.

use std::path::Path;

use aicr::{CatalogSource, Client, Code, Criteria, Error, FetchedFiles, RecipeRequest};
use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};

const GATEWAY: &str = "components/agentgateway-crds/manifests/gateway-api-crds.yaml";
const INFERENCE: &str = "components/agentgateway-crds/manifests/inference-extension-crds.yaml";

fn manifest(name: &str) -> Vec<u8> {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n").into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Serves `/gateway.yaml` and answers 503 for anything else, until the
/// test process ends.
fn serve() -> String {
    aicr_test_support::http_server(|path| {
        if path == "/gateway.yaml" {
            ("200 OK", manifest("gateway"))
        } else {
            ("503 Service Unavailable", Vec::new())
        }
    })
}

/// A `--data` layer whose external-manifests.yaml pins both Gateway API
/// files to `base`, with the digests of [`manifest`].
fn data_dir(base: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: String| {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    };
    write(
        "registry.yaml",
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents: []\n".into(),
    );
    let entry = |path: &str, file: &str, name: &str| {
        format!(
            "  - path: {path}\n    url: {base}/{file}\n    version: v0\n    sha256: {}\n",
            sha256(&manifest(name))
        )
    };
    write(
        "external-manifests.yaml",
        format!(
            "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ExternalManifests\nfiles:\n{}{}",
            entry(GATEWAY, "gateway.yaml", "gateway"),
            entry(INFERENCE, "inference.yaml", "inference")
        ),
    );
    dir
}

fn inference_criteria() -> Criteria {
    Criteria {
        service: Service::Eks,
        accelerator: Accelerator::H100,
        os: Os::Ubuntu,
        intent: Intent::Inference,
        platform: Platform::Dynamo,
        nodes: 0,
    }
}

/// What a successful fetch would have returned, made by hand.
fn fetched_by_hand(client: &Client) -> FetchedFiles {
    let mut fetched = FetchedFiles::default();
    for entry in client.components().external_files() {
        let name = if entry.path == GATEWAY {
            "gateway"
        } else {
            "inference"
        };
        fetched.add(entry, manifest(name)).unwrap();
    }
    fetched
}

#[test]
fn a_fetch_failure_in_one_call_never_appears_in_another() {
    let base = serve();
    let data = data_dir(&base);
    let client = Client::open(&CatalogSource::Layered(data.path().to_path_buf())).unwrap();
    let recipe = client.recipe(&inference_criteria()).unwrap();
    let options = aicr::BundleRequest::default().options().unwrap();
    let good = fetched_by_hand(&client);

    std::thread::scope(|scope| {
        for i in 0..8 {
            let (client, recipe, options, good) = (&client, &recipe, &options, &good);
            scope.spawn(move || {
                if i % 2 == 0 {
                    let err = aicr::block_on(client.fetch_manifests(recipe)).unwrap_err();
                    assert_eq!(err.code(), Code::ServiceUnavailable, "{err}");
                    assert!(err.to_string().contains("503"), "{err}");
                } else {
                    let tree = client.render_bundle(recipe, options, good).unwrap();
                    assert!(!tree.is_empty());
                    let err = client
                        .render_bundle(recipe, options, &FetchedFiles::default())
                        .unwrap_err();
                    assert!(err.to_string().contains("was not fetched"), "{err}");
                    assert!(!err.to_string().contains("503"), "{err}");
                }
            });
        }
    });
}

#[test]
fn fetched_bytes_without_the_pinned_digest_are_refused() {
    let base = serve();
    let data = data_dir(&base);
    let client = Client::open(&CatalogSource::Layered(data.path().to_path_buf())).unwrap();
    let entry = &client.components().external_files()[0];
    let err = FetchedFiles::default()
        .add(entry, b"tampered".to_vec())
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized);
}

#[test]
fn an_unreachable_server_is_unavailable_and_keeps_its_cause() {
    let data = data_dir("http://127.0.0.1:9");
    let client = Client::open(&CatalogSource::Layered(data.path().to_path_buf())).unwrap();
    let recipe = client.recipe(&inference_criteria()).unwrap();
    let err = aicr::block_on(client.fetch_manifests(&recipe)).unwrap_err();
    assert_eq!(err.code(), Code::ServiceUnavailable, "{err}");
    assert!(err.to_string().contains("--data DIR"), "{err}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

/// Counts printed codes such as `[NOT_FOUND]` in a rendered error.
fn codes_in(text: &str) -> usize {
    [
        "[INVALID_REQUEST]",
        "[NOT_FOUND]",
        "[UNAUTHORIZED]",
        "[TIMEOUT]",
        "[INTERNAL]",
        "[SERVICE_UNAVAILABLE]",
        "[CONFLICT]",
        "[METHOD_NOT_ALLOWED]",
        "[RATE_LIMIT_EXCEEDED]",
    ]
    .iter()
    .map(|code| text.matches(code).count())
    .sum()
}

fn failures(work: &Path) -> Vec<Error> {
    let write = |name: &str, text: &str| {
        let path = work.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let bad_config = write(
        "c.yaml",
        "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  recipe:\n    criteria:\n      service: windows\n",
    );
    let dup_config = write(
        "d.yaml",
        "kind: AICRConfig\nkind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec: {}\n",
    );
    let plan = |config: &str| {
        RecipeRequest {
            config: Some(config.to_string()),
            ..RecipeRequest::default()
        }
        .plan()
        .unwrap_err()
    };
    let client = Client::embedded().unwrap();
    let broken_catalog = work.join("catalog");
    std::fs::create_dir_all(broken_catalog.join("overlays")).unwrap();
    std::fs::write(broken_catalog.join("overlays/base.yaml"), "kind: [").unwrap();
    std::fs::write(
        broken_catalog.join("registry.yaml"),
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents: []\n",
    )
    .unwrap();
    vec![
        plan(&bad_config),
        plan(&dup_config),
        plan(&work.join("missing.yaml").display().to_string()),
        plan(&work.display().to_string()),
        client
            .read_recipe_blocking(&aicr::Input::parse(&bad_config).unwrap())
            .unwrap_err(),
        client
            .query(
                &Criteria {
                    service: Service::Eks,
                    ..Criteria::default()
                },
                "components.nope",
            )
            .unwrap_err(),
        Client::open(&CatalogSource::Dir(broken_catalog)).unwrap_err(),
        Client::open(&CatalogSource::Layered(work.join("nope"))).unwrap_err(),
    ]
}

#[test]
fn no_error_message_contains_a_nested_code() {
    let work = tempfile::tempdir().unwrap();
    for err in failures(work.path()) {
        let text = err.to_string();
        assert_eq!(codes_in(&text), 1, "{text}");
        assert!(!text.contains("DuplicateKeyPolicy"), "{text}");
        assert!(!text.contains("budget breached"), "{text}");
    }
}

#[test]
fn errors_with_context_expose_their_source_chain() {
    let work = tempfile::tempdir().unwrap();
    let with_source = failures(work.path())
        .iter()
        .filter(|e| std::error::Error::source(*e).is_some())
        .count();
    assert!(with_source >= 3, "{with_source}");
}

#[test]
fn a_snapshot_request_plans_its_criteria_and_keeps_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(
        &path,
        "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements:\n  - type: K8s\n    subtypes:\n      - subtype: node\n        data:\n          provider: gke\n",
    )
    .unwrap();
    let request = RecipeRequest {
        snapshot: Some(path.display().to_string()),
        criteria: aicr::CriteriaFlags {
            intent: Some("training".into()),
            // Blank is "not given": the snapshot's value stays.
            service: Some(" ".into()),
            ..aicr::CriteriaFlags::default()
        },
        ..RecipeRequest::default()
    };
    let plan = request.plan().unwrap();
    assert_eq!(plan.criteria.service, aicr::Service::Gke);
    assert_eq!(plan.criteria.intent, aicr::Intent::Training);
    let snapshot = plan.snapshot.as_ref().unwrap();
    let client = Client::embedded().unwrap();
    let checked = client.recipe_with(&plan.criteria, Some(snapshot)).unwrap();
    assert_eq!(checked, client.recipe(&plan.criteria).unwrap());
    // Without a snapshot, criteria that are all `any` are still refused.
    let err = RecipeRequest::default().plan().unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest);
}
