//! `aicr mcp` driven by the official MCP Python SDK over stdio and over
//! streamable HTTP (`--listen`): initialize, list the tools and the
//! resources, call every tool with good and bad input, and check each
//! result against the CLI's own output for the same request. Without the
//! SDK (scripts/install_real_tools.sh) the test says so and passes, unless
//! `AICR_REQUIRE_REAL_TOOLS` is set, when it fails.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use aicr_test_support::mcp::{drive, python_or_skip};
use serde_json::{Value, json};

use crate::support::run;

const GKE: [&str; 6] = [
    "--service",
    "gke",
    "--accelerator",
    "h100",
    "--intent",
    "inference",
];

fn snapshot(k8s: &str) -> String {
    format!(
        "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  timestamp: \"2026-01-30T12:00:00Z\"\n  source-node: gpu-1\nmeasurements:\n  - type: K8s\n    subtypes:\n      - subtype: server\n        data:\n          version: {k8s}\n  - type: OS\n    subtypes:\n      - subtype: release\n        data:\n          ID: ubuntu\n          VERSION_ID: \"24.04\"\n      - subtype: sysctl\n        data:\n          /proc/sys/kernel/osrelease: 6.8.0-1028-aws\n"
    )
}

/// The eks/h100/ubuntu/training recipe as the CLI writes it.
fn training_recipe() -> String {
    let (status, out, err) = run([
        "recipe",
        "--service",
        "eks",
        "--accelerator",
        "h100",
        "--os",
        "ubuntu",
        "--intent",
        "training",
    ]);
    assert_eq!(status, 0, "{err}");
    out
}

fn case(label: &str, tool: &str, arguments: Value) -> Value {
    json!({"label": label, "tool": tool, "arguments": arguments})
}

fn cases(recipe: &str) -> Value {
    let gke = json!({"service": "gke", "accelerator": "h100", "intent": "inference"});
    json!([
        case("criteria", "list_criteria", json!({})),
        case("criteria_bad", "list_criteria", json!({"service": "gke"})),
        case("recipe", "resolve_recipe", gke.clone()),
        case(
            "recipe_bad",
            "resolve_recipe",
            json!({"accelerator": "h999"})
        ),
        case(
            "query",
            "query_recipe",
            json!({"criteria": {"service": "eks", "accelerator": "h100", "intent": "training"}, "selector": "components.gpu-operator.values.driver"})
        ),
        case(
            "query_bad",
            "query_recipe",
            json!({"criteria": {"service": "eks"}, "selector": "components.nope"})
        ),
        case(
            "explain",
            "explain_recipe",
            json!({"criteria": {"service": "eks", "accelerator": "h100", "intent": "training"}, "selector": "components.gpu-operator.values.driver"})
        ),
        case(
            "explain_bad",
            "explain_recipe",
            json!({"criteria": {"service": "eks"}, "selector": "deploymentOrder"})
        ),
        case(
            "bundle",
            "render_bundle",
            json!({"criteria": gke.clone(), "files": ["checksums.txt"]})
        ),
        case(
            "bundle_bad",
            "render_bundle",
            json!({"criteria": gke, "bundle": {"deployer": "ansible"}})
        ),
        case("lint", "lint_catalog", json!({})),
        case(
            "validate",
            "validate_recipe",
            json!({"recipe": recipe, "snapshot": snapshot("v1.33.2")})
        ),
        case(
            "validate_bad",
            "validate_recipe",
            json!({"recipe": recipe, "snapshot": "kind: Nope"})
        ),
        case(
            "diff",
            "diff_snapshots",
            json!({"baseline": snapshot("v1.33.2"), "target": snapshot("v1.34.1")})
        ),
        case(
            "diff_bad",
            "diff_snapshots",
            json!({"baseline": "", "target": snapshot("v1.34.1")})
        ),
    ])
}

/// `aicr mcp --listen 127.0.0.1:0`, its URL read from stderr, which a
/// thread keeps draining (so the server never blocks on its logs) into
/// `log`.
struct Listening {
    child: std::process::Child,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Listening {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aicr"))
            .args(["mcp", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().expect("a line on stderr").unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || lines.for_each(|l| sink.lock().unwrap().push(l.unwrap())));
        let url = first
            .strip_prefix("aicr mcp: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_string();
        Listening { child, url, log }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_python_sdk_gets_the_cli_answers_over_stdio_and_http() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let recipe = training_recipe();
    let cases = cases(&recipe);
    let stdio = drive(
        &python,
        &cases,
        &["stdio", env!("CARGO_BIN_EXE_aicr"), "mcp"],
    );
    let server = Listening::start();
    let http = drive(&python, &cases, &["http", &server.url]);
    assert_eq!(stdio, http, "the two transports answer alike");
    check_log(&server, &cases);
    check_session(&stdio);
    check_against_cli(&stdio["calls"], dir.path(), &recipe);
}

/// One JSON line per tool call: tool, argument digest, duration, outcome.
fn check_log(server: &Listening, cases: &Value) {
    let expected = cases.as_array().unwrap().len() + 1; // and the unknown tool
    let calls: Vec<Value> = (0..100)
        .find_map(|_| {
            let calls: Vec<Value> = server
                .log
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|e| e["message"] == "mcp tool call")
                .collect();
            if calls.len() >= expected {
                return Some(calls);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            None
        })
        .expect("a log line per tool call");
    for event in &calls {
        assert_eq!(
            event["arguments_sha256"].as_str().unwrap().len(),
            64,
            "{event}"
        );
        assert!(event["duration_ms"].is_number(), "{event}");
    }
    let outcome = |tool: &str, outcome: &str| {
        calls
            .iter()
            .any(|e| e["tool"] == tool && e["outcome"] == outcome)
    };
    assert!(outcome("resolve_recipe", "ok"));
    assert!(outcome("resolve_recipe", "INVALID_REQUEST"));
    assert!(outcome("write_file", "UNKNOWN_TOOL"));
}

fn check_session(out: &Value) {
    assert_eq!(out["server"]["name"], "aicr");
    let snap = include_str!("../../../aicr-mcp/src/snapshots/aicr_mcp__tests__tools.snap");
    let listed: Value = serde_json::from_str(snap.splitn(3, "---\n").nth(2).unwrap()).unwrap();
    assert_eq!(
        out["tools"], listed,
        "the SDK sees the snapshot-tested tool list"
    );
    assert!(out["resources"]["count"].as_u64().unwrap() > 50);
    assert!(out["resources"]["has_registry"].as_bool().unwrap());
    assert_eq!(
        out["resources"]["templates"],
        json!(["aicr://catalog/{path}"])
    );
    let registry = std::fs::read_to_string(aicr_test_support::recipes_dir().join("registry.yaml"));
    assert_eq!(out["resources"]["registry_text"], registry.unwrap());
    // Protocol errors: an unknown tool is invalid params, a missing
    // resource the SDK's resource-not-found code.
    assert_eq!(out["errors"]["unknown_tool"]["code"], -32602);
    assert_eq!(out["errors"]["unknown_resource"]["code"], -32002);
}

fn check_against_cli(calls: &Value, dir: &Path, recipe: &str) {
    let ok = |label: &str| -> &Value {
        let call = &calls[label];
        assert_eq!(call["is_error"], false, "{label}: {call}");
        call
    };
    let failed = |label: &str, code: &str| -> String {
        let call = &calls[label];
        assert_eq!(call["is_error"], true, "{label}: {call}");
        assert_eq!(call["structured"]["code"], code, "{label}: {call}");
        let text = call["text"].as_str().unwrap().to_string();
        assert!(text.starts_with(&format!("[{code}] ")), "{label}: {text}");
        text
    };
    let cli = |args: &[&str]| {
        let (status, out, err) = run(args);
        assert_eq!(status, 0, "aicr {args:?}: {err}");
        out
    };

    assert!(
        ok("criteria")["structured"]["accelerator"]
            .as_array()
            .unwrap()
            .contains(&json!("h100"))
    );
    failed("criteria_bad", "INVALID_REQUEST");

    let mut args = vec!["recipe"];
    args.extend(GKE);
    args.extend(["-t", "json"]);
    let printed = cli(&args);
    assert_eq!(ok("recipe")["text"], printed.as_str());
    assert_eq!(
        ok("recipe")["structured"],
        serde_json::from_str::<Value>(&printed).unwrap()
    );
    let text = failed("recipe_bad", "INVALID_REQUEST");
    let (status, _, err) = run(["recipe", "--accelerator", "h999"]);
    assert_eq!((status, err.trim()), (2, text.as_str()));

    let printed = cli(&[
        "query",
        "--service",
        "eks",
        "--accelerator",
        "h100",
        "--intent",
        "training",
        "--selector",
        "components.gpu-operator.values.driver",
        "-t",
        "json",
    ]);
    assert_eq!(ok("query")["text"], printed.as_str());
    failed("query_bad", "NOT_FOUND");

    let printed = cli(&[
        "query",
        "--service",
        "eks",
        "--accelerator",
        "h100",
        "--intent",
        "training",
        "--explain",
        "--selector",
        "components.gpu-operator.values.driver",
        "-t",
        "json",
    ]);
    assert_eq!(ok("explain")["text"], printed.as_str());
    let text = failed("explain_bad", "INVALID_REQUEST");
    let (status, _, err) = run([
        "query",
        "--service",
        "eks",
        "--explain",
        "--selector",
        "deploymentOrder",
    ]);
    assert_eq!((status, err.trim()), (2, text.as_str()));

    check_bundle(ok("bundle"), dir);
    failed("bundle_bad", "INVALID_REQUEST");

    let (status, printed, _) = run(["recipe", "lint"]);
    assert_eq!(status, 0);
    assert_eq!(ok("lint")["text"], printed.as_str());
    assert_eq!(ok("lint")["structured"]["ok"], true);

    std::fs::write(dir.join("recipe.yaml"), recipe).unwrap();
    std::fs::write(dir.join("snapshot.yaml"), snapshot("v1.33.2")).unwrap();
    let (r, s) = (dir.join("recipe.yaml"), dir.join("snapshot.yaml"));
    let (_, printed, err) = run([
        "validate".as_ref(),
        "-r".as_ref(),
        r.as_os_str(),
        "-s".as_ref(),
        s.as_os_str(),
        "--fail-on-error=false".as_ref(),
    ]);
    let report: Value = serde_json::from_str(&printed).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(ok("validate")["structured"], report);
    failed("validate_bad", "INVALID_REQUEST");

    // The report names its sources as given: run from the directory with
    // files named as the tool names its inline documents.
    std::fs::write(dir.join("baseline"), snapshot("v1.33.2")).unwrap();
    std::fs::write(dir.join("target"), snapshot("v1.34.1")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aicr"))
        .current_dir(dir)
        .args(["diff", "-b", "baseline", "--target", "target", "-t", "json"])
        .output()
        .unwrap();
    let (status, printed, err) = aicr_test_support::output_text(out);
    assert_eq!(status, 0, "{err}");
    assert_eq!(ok("diff")["text"], printed.as_str());
    failed("diff_bad", "INVALID_REQUEST");
}

/// The tool's file list is the bundle `aicr bundle` writes for the same
/// recipe, file for file and digest for digest.
fn check_bundle(call: &Value, dir: &Path) {
    let recipe = dir.join("gke.yaml");
    let mut args = vec!["recipe"];
    args.extend(GKE);
    let recipe_arg = recipe.to_str().unwrap();
    args.extend(["-o", recipe_arg]);
    let (status, _, err) = run(&args);
    assert_eq!(status, 0, "{err}");
    let out = dir.join("bundle");
    let (status, _, err) = run(["bundle", "-r", recipe_arg, "-o", out.to_str().unwrap()]);
    assert_eq!(status, 0, "{err}");
    let written = aicr_test_support::read_tree(&out);
    let listed = call["structured"]["files"].as_array().unwrap();
    let paths: Vec<&str> = listed.iter().map(|f| f["path"].as_str().unwrap()).collect();
    let on_disk: Vec<&str> = written
        .keys()
        .map(String::as_str)
        .filter(|p| *p != ".aicr-bundle")
        .collect();
    assert_eq!(paths, on_disk);
    let checksums = listed
        .iter()
        .find(|f| f["path"] == "checksums.txt")
        .unwrap();
    assert_eq!(
        checksums["content"].as_str().unwrap().as_bytes(),
        written["checksums.txt"].as_slice()
    );
    for file in listed {
        use sha2::{Digest, Sha256};
        let bytes = &written[file["path"].as_str().unwrap()];
        let digest: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file["size"], bytes.len(), "{file}");
        assert_eq!(file["sha256"], digest, "{file}");
    }
}

#[test]
fn a_catalog_that_does_not_load_stops_the_server_before_it_serves() {
    let (status, out, err) = run(["mcp", "--catalog", "/nonexistent/catalog"]);
    assert_eq!(status, 3, "{err}");
    assert!(out.is_empty(), "nothing on the protocol stream: {out}");
    assert!(err.contains("[NOT_FOUND]"), "{err}");
    let (status, _, err) = run(["mcp", "--listen", "not-an-address"]);
    assert_eq!(status, 1, "{err}");
}
