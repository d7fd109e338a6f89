//! `aicrd` over a real socket: every endpoint, every error status the
//! server produces, and graceful shutdown with requests in flight.

// Tests drive the process edge: clocks and raw sockets.
#![allow(clippy::disallowed_methods)]

mod http;
mod mcp;
mod process;
mod schemathesis;

use std::time::Duration;

use aicr_server::Config;
use serde_json::Value;

use http::{Running, request, start};

fn quiet() -> Config {
    Config {
        access_log: false,
        ..Config::default()
    }
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

/// Checks the typed error body and its agreement with the headers.
fn error_body(r: &http::Reply, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = json(&r.body);
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["retryable"], code_retryable(code));
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    if let Some(id) = r.header("x-request-id") {
        assert_eq!(body["requestId"], id);
    }
    body
}

fn code_retryable(code: &str) -> bool {
    matches!(
        code,
        "TIMEOUT" | "SERVICE_UNAVAILABLE" | "RATE_LIMIT_EXCEEDED" | "INTERNAL"
    )
}

#[test]
fn probes_metrics_and_the_route_list() {
    let s = start(quiet());
    let r = request(&s, "GET", "/health", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(json(&r.body)["status"], "healthy");
    let r = request(&s, "GET", "/ready", &[], b"");
    assert_eq!(
        (r.status, json(&r.body)["status"].clone()),
        (200, "ready".into())
    );
    let r = request(&s, "GET", "/", &[], b"");
    let body = json(&r.body);
    assert_eq!(body["service"], "aicrd");
    assert_eq!(
        body["routes"],
        serde_json::json!(["/v1/bundle", "/v1/openapi.json", "/v1/query", "/v1/recipe"])
    );
    request(&s, "GET", "/v1/recipe?service=eks", &[], b"");
    let r = request(&s, "GET", "/metrics", &[], b"");
    let text = r.text();
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(
        text.contains(
            "aicr_http_requests_total{method=\"GET\",path=\"/v1/recipe\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "aicr_http_request_duration_seconds_count{method=\"GET\",path=\"/v1/recipe\"} 1"
    ));
    assert!(text.contains("aicr_http_requests_in_flight 0"));
}

#[test]
fn get_recipe_answers_as_the_library_with_the_reference_headers() {
    let s = start(quiet());
    let r = request(
        &s,
        "GET",
        "/v1/recipe?service=eks&gpu=h100&intent=training&os=ubuntu",
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=600"));
    assert_eq!(r.header("x-api-version"), Some("v1"));
    assert_eq!(r.header("x-ratelimit-limit"), Some("100"));
    assert!(
        r.header("x-ratelimit-remaining")
            .unwrap()
            .parse::<u32>()
            .unwrap()
            < 200
    );
    assert!(
        r.header("x-ratelimit-reset")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 1_700_000_000
    );
    assert!(uuid_like(r.header("x-request-id").unwrap()));

    let expected = json(&resolved(aicr::CriteriaFlags {
        service: Some("eks".into()),
        accelerator: Some("h100".into()),
        intent: Some("training".into()),
        os: Some("ubuntu".into()),
        ..Default::default()
    }));
    assert_eq!(json(&r.body), expected);

    // The second answer comes from the memo, byte for byte the same.
    let again = request(
        &s,
        "GET",
        "/v1/recipe?service=eks&accelerator=h100&intent=training&os=ubuntu",
        &[],
        b"",
    );
    assert_eq!(again.body, r.body);
    let metrics = request(&s, "GET", "/metrics", &[], b"").text();
    assert!(
        metrics.contains("aicr_recipe_cache_hits_total 1"),
        "{metrics}"
    );

    // No parameters at all: every criterion is `any`, which is valid.
    let r = request(&s, "GET", "/v1/recipe", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(json(&r.body)["kind"], "RecipeResult");
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

#[test]
fn request_ids_are_echoed_when_they_are_uuids() {
    let s = start(quiet());
    let mine = "0b9f2d8e-3c4a-4f5e-9a6b-7c8d9e0f1a2b";
    let r = request(
        &s,
        "GET",
        "/v1/recipe?service=eks",
        &[("X-Request-Id", mine)],
        b"",
    );
    assert_eq!(r.header("x-request-id"), Some(mine));
    let r = request(
        &s,
        "GET",
        "/v1/recipe?service=eks",
        &[("X-Request-Id", "not-a-uuid")],
        b"",
    );
    let id = r.header("x-request-id").unwrap();
    assert!(uuid_like(id) && id != "not-a-uuid");
    // Error bodies carry the same id.
    let r = request(
        &s,
        "GET",
        "/v1/recipe?service=windows",
        &[("X-Request-Id", mine)],
        b"",
    );
    assert_eq!(error_body(&r, 400, "INVALID_REQUEST")["requestId"], mine);
}

#[test]
fn bad_criteria_are_400_with_the_cause() {
    let s = start(quiet());
    for (query, cause) in [
        ("service=windows", "invalid service type: windows"),
        ("accelerator=h800", "invalid accelerator type: h800"),
        ("nodes=-1", "nodes must be a non-negative integer"),
        ("nodes=4abc", "nodes must be a non-negative integer"),
    ] {
        let r = request(&s, "GET", &format!("/v1/recipe?{query}"), &[], b"");
        let body = error_body(&r, 400, "INVALID_REQUEST");
        assert_eq!(body["message"], "Invalid recipe criteria");
        let detail = body["details"]["error"].as_str().unwrap();
        assert!(detail.contains(cause), "{query}: {detail}");
        assert_eq!(detail.matches("[INVALID_REQUEST]").count(), 1, "{detail}");
    }
}

#[test]
fn post_recipe_reads_json_and_yaml_criteria_documents() {
    let s = start(quiet());
    let get = request(
        &s,
        "GET",
        "/v1/recipe?service=gke&accelerator=h100&intent=inference",
        &[],
        b"",
    );
    let body_json = br#"{"kind":"RecipeCriteria","apiVersion":"aicr.nvidia.com/v1alpha1","spec":{"service":"gke","accelerator":"h100","intent":"inference"}}"#;
    let r = request(
        &s,
        "POST",
        "/v1/recipe",
        &[("Content-Type", "application/json")],
        body_json,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, get.body);
    let body_yaml =
        b"kind: RecipeCriteria\nspec:\n  service: gke\n  accelerator: h100\n  intent: inference\n";
    let r = request(
        &s,
        "POST",
        "/v1/recipe",
        &[("Content-Type", "application/yaml")],
        body_yaml,
    );
    assert_eq!(r.body, get.body);

    for (body, cause) in [
        (&b""[..], "request body is empty"),
        (b"kind: Other\nspec: {}\n", "is not RecipeCriteria"),
        (b"spec:\n  service: windows\n", "invalid service type"),
        (b"spec: {}\nbogus: 1\n", "bogus"),
        (b"{not json", ""),
    ] {
        let r = request(
            &s,
            "POST",
            "/v1/recipe",
            &[("Content-Type", "application/json")],
            body,
        );
        let e = error_body(&r, 400, "INVALID_REQUEST");
        assert!(
            e["details"]["error"].as_str().unwrap().contains(cause),
            "{e}"
        );
    }
}

#[test]
fn query_selects_from_the_hydrated_recipe_or_answers_404() {
    let s = start(quiet());
    let r = request(
        &s,
        "GET",
        "/v1/query?service=eks&accelerator=h100&intent=training&selector=criteria.service",
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r.body), "eks");
    let r = request(
        &s,
        "POST",
        "/v1/query",
        &[("Content-Type", "application/json")],
        br#"{"criteria":{"service":"eks","accelerator":"h100"},"selector":"criteria.accelerator"}"#,
    );
    assert_eq!(json(&r.body), "h100");
    let r = request(
        &s,
        "GET",
        "/v1/query?service=eks&selector=nope.deeper",
        &[],
        b"",
    );
    let body = error_body(&r, 404, "NOT_FOUND");
    assert_eq!(body["message"], "Selector path not found");
    assert_eq!(body["details"]["selector"], "nope.deeper");
    let r = request(&s, "POST", "/v1/query", &[], b"selector: x\n");
    let body = error_body(&r, 400, "INVALID_REQUEST");
    assert!(
        body["details"]["error"]
            .as_str()
            .unwrap()
            .contains("criteria cannot be empty")
    );
}

#[test]
fn wrong_methods_are_405_with_allow_and_unknown_paths_404() {
    let s = start(quiet());
    let r = request(&s, "DELETE", "/v1/recipe", &[], b"");
    let body = error_body(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    assert_eq!(
        body["details"]["allowed"],
        serde_json::json!(["GET", "POST"])
    );
    let r = request(&s, "GET", "/v1/bundle", &[], b"");
    error_body(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
    let r = request(&s, "POST", "/health", &[], b"");
    error_body(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("GET"));
    let r = request(&s, "GET", "/v1/recipes", &[], b"");
    let body = error_body(&r, 404, "NOT_FOUND");
    assert_eq!(body["details"]["path"], "/v1/recipes");
}

#[test]
fn bodies_over_the_limit_are_413() {
    let s = start(quiet());
    let big = vec![b' '; (1 << 20) + 1];
    let r = request(
        &s,
        "POST",
        "/v1/recipe",
        &[("Content-Type", "application/json")],
        &big,
    );
    let body = error_body(&r, 413, "INVALID_REQUEST");
    assert_eq!(body["details"]["limit_bytes"], 1 << 20);
}

#[test]
fn an_empty_bucket_is_429_with_retry_after_and_probes_are_never_limited() {
    let s = start(Config {
        rate_limit: 0.001,
        rate_burst: 2,
        ..quiet()
    });
    for _ in 0..2 {
        assert_eq!(
            request(&s, "GET", "/v1/recipe?service=eks", &[], b"").status,
            200
        );
    }
    let r = request(&s, "GET", "/v1/recipe?service=eks", &[], b"");
    let body = error_body(&r, 429, "RATE_LIMIT_EXCEEDED");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(body["details"]["burst"], 2.0);
    assert_eq!(request(&s, "GET", "/health", &[], b"").status, 200);
    assert!(
        request(&s, "GET", "/metrics", &[], b"")
            .text()
            .contains("aicr_rate_limit_rejects_total 1")
    );

    // AICR_RATE_LIMIT=0: no limit at all.
    let s = start(Config {
        rate_limit: 0.0,
        rate_burst: 1,
        ..quiet()
    });
    for _ in 0..5 {
        let r = request(&s, "GET", "/v1/recipe?service=eks", &[], b"");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), None);
    }
}

#[test]
fn allowlists_refuse_specific_values_outside_them() {
    let s = start(Config {
        allow: aicr_server::Allowlists::parse(Some("eks"), Some("h100,l40"), None, None).unwrap(),
        ..quiet()
    });
    assert_eq!(
        request(&s, "GET", "/v1/recipe", &[], b"").status,
        200,
        "any is allowed"
    );
    assert_eq!(
        request(
            &s,
            "GET",
            "/v1/recipe?service=eks&accelerator=l40",
            &[],
            b""
        )
        .status,
        200
    );
    let r = request(
        &s,
        "GET",
        "/v1/recipe?service=eks&accelerator=gb200",
        &[],
        b"",
    );
    let body = error_body(&r, 400, "INVALID_REQUEST");
    assert_eq!(body["message"], "accelerator type not allowed");
    assert_eq!(body["details"]["requested"], "gb200");
    assert_eq!(
        body["details"]["allowed"],
        serde_json::json!(["h100", "l40"])
    );
    let r = request(
        &s,
        "GET",
        "/v1/query?service=gke&selector=criteria",
        &[],
        b"",
    );
    assert_eq!(
        error_body(&r, 400, "INVALID_REQUEST")["message"],
        "service type not allowed"
    );
    let gke = resolved(aicr::CriteriaFlags {
        service: Some("gke".into()),
        ..Default::default()
    });
    let r = request(&s, "POST", "/v1/bundle", &[], &gke);
    assert_eq!(
        error_body(&r, 400, "INVALID_REQUEST")["message"],
        "service type not allowed"
    );
}

#[test]
fn a_request_past_its_deadline_is_504() {
    let s = start(Config {
        request_timeout: Duration::from_millis(300),
        ..quiet()
    });
    // The body never comes, so the handler waits past the deadline.
    let r = http::request_with_stalled_body(&s, "/v1/recipe", 100);
    error_body(&r, 504, "TIMEOUT");
}

/// The recipe the library resolves for `flags`, as JSON bytes.
fn resolved(flags: aicr::CriteriaFlags) -> Vec<u8> {
    let client = aicr::Client::embedded().unwrap();
    serde_json::to_vec(&client.recipe(&flags.criteria().unwrap()).unwrap()).unwrap()
}

fn eks_recipe_json() -> Vec<u8> {
    resolved(aicr::CriteriaFlags {
        service: Some("eks".into()),
        accelerator: Some("h100".into()),
        intent: Some("training".into()),
        os: Some("ubuntu".into()),
        platform: Some("kubeflow".into()),
        ..Default::default()
    })
}

/// Every file of a zip archive: path → (bytes, mode); directories skipped.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, (Vec<u8>, u32)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        if entry.is_dir() {
            continue;
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        let mode = entry.unix_mode().unwrap() & 0o777;
        files.insert(entry.name().unwrap().to_string(), (data, mode));
    }
    files
}

/// Every file under `dir`: path → (bytes, mode).
fn read_dir(dir: &std::path::Path) -> std::collections::BTreeMap<String, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            files.insert(rel, (std::fs::read(&path).unwrap(), mode));
        }
    }
    files
}

#[test]
fn bundle_returns_the_files_aicr_bundle_writes_as_a_stable_zip() {
    let s = start(quiet());
    let recipe = eks_recipe_json();
    let path = "/v1/bundle?deployer=argocd&repo=https://git.example.com/org/gitops.git&set=gpuoperator:driver.version=580.1&nodes=4";
    let r = request(
        &s,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        &recipe,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/zip"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"bundles.zip\"")
    );
    let served = unzip(&r.body);
    assert_eq!(
        r.header("x-bundle-files")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            + 1,
        served.len()
    );

    // What `aicr bundle` does with the same inputs, through the facade.
    let client = aicr::Client::embedded().unwrap();
    let parsed = client.parse_recipe(&recipe, "test").unwrap();
    let options = aicr::BundleRequest {
        deployer: Some("argocd".into()),
        repo: Some("https://git.example.com/org/gitops.git".into()),
        set: vec!["gpuoperator:driver.version=580.1".into()],
        nodes: Some(4),
        ..Default::default()
    }
    .options()
    .unwrap();
    let tree = client
        .render_bundle(&parsed, &options, &aicr::FetchedFiles::default())
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    client.write_bundle(&tree, &dir, false).unwrap();
    assert_eq!(served, read_dir(&dir));

    let again = request(
        &s,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        &recipe,
    );
    assert_eq!(again.body, r.body, "the same archive, byte for byte");
}

#[test]
fn bundle_refuses_bad_parameters_and_bodies() {
    let s = start(quiet());
    let recipe = eks_recipe_json();
    for (query, cause) in [
        ("set=nocolon", "set"),
        ("nodes=-1", "nodes must be a non-negative integer"),
        ("nodes=4abc", "nodes must be a non-negative integer"),
        ("deployer=nope", "nope"),
        ("deployer=helm&deployer=flux", "only be given once"),
        ("vendor-charts=true", "vendor-charts"),
    ] {
        let r = request(&s, "POST", &format!("/v1/bundle?{query}"), &[], &recipe);
        let body = error_body(&r, 400, "INVALID_REQUEST");
        assert_eq!(body["message"], "Invalid bundle parameters", "{query}");
        assert!(
            body["details"]["error"].as_str().unwrap().contains(cause),
            "{query}: {body}"
        );
    }
    let r = request(&s, "POST", "/v1/bundle", &[], b"");
    assert_eq!(
        error_body(&r, 400, "INVALID_REQUEST")["message"],
        "Invalid request body"
    );
    let empty = br#"{"apiVersion":"aicr.nvidia.com/v1alpha1","kind":"RecipeResult","metadata":{},"componentRefs":[]}"#;
    let r = request(&s, "POST", "/v1/bundle", &[], empty);
    assert_eq!(
        error_body(&r, 400, "INVALID_REQUEST")["message"],
        "Recipe must contain at least one component reference"
    );
    let hostile = String::from_utf8(recipe.clone()).unwrap().replacen(
        "\"componentRefs\":[{\"name\":\"",
        "\"componentRefs\":[{\"name\":\"$(touch x)",
        1,
    );
    assert_ne!(hostile.as_bytes(), recipe.as_slice());
    let r = request(&s, "POST", "/v1/bundle", &[], hostile.as_bytes());
    error_body(&r, 400, "INVALID_REQUEST");
    let big = vec![b' '; (8 << 20) + 1];
    let r = request(&s, "POST", "/v1/bundle", &[], &big);
    assert_eq!(
        error_body(&r, 413, "INVALID_REQUEST")["details"]["limit_bytes"],
        8 << 20
    );
}

#[test]
fn the_openapi_document_is_served_and_committed() {
    let s = start(quiet());
    let r = request(&s, "GET", "/v1/openapi.json", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), aicr_server::openapi());
    let doc = json(&r.body);
    assert_eq!(doc["openapi"], "3.1.0");
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/aicrd.openapi.json"),
    )
    .expect("schemas/aicrd.openapi.json is committed (cargo xtask codegen)");
    assert_eq!(committed, r.text(), "stale: run cargo xtask codegen");
}

#[test]
fn not_ready_until_serving() {
    let s = http::start_without_serve(quiet());
    let r = request(&s, "GET", "/ready", &[], b"");
    assert_eq!(r.status, 503);
    assert_eq!(json(&r.body)["status"], "not_ready");
}

#[test]
fn shutdown_drains_requests_in_flight() {
    let s = start(quiet());
    // A request whose body arrives only after shutdown has begun.
    let pending = http::begin_request(&s, "/v1/recipe", br#"{"spec":{"service":"eks"}}"#);
    std::thread::sleep(Duration::from_millis(100));
    let Running { stop, done, .. } = s;
    stop.send(()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let reply = pending.finish();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(done.recv_timeout(Duration::from_secs(10)).unwrap().is_ok());
}

#[test]
fn shutdown_fails_when_requests_outlive_the_deadline() {
    let s = http::start_with_drain(quiet(), Duration::from_millis(300));
    let _pending = http::begin_request(&s, "/v1/recipe", b"{}");
    std::thread::sleep(Duration::from_millis(100));
    let Running { stop, done, .. } = s;
    stop.send(()).unwrap();
    let result = done.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
}
