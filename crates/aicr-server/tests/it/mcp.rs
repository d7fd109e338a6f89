//! `aicrd`'s `/mcp`, driven by the official MCP Python SDK over streamable
//! HTTP: the same tools as `aicr mcp`, answering as the REST API does for
//! the same request. Without the SDK (scripts/install_real_tools.sh) the
//! test says so and passes, unless `AICR_REQUIRE_REAL_TOOLS` is set.

use aicr_test_support::mcp::{drive, python_or_skip};
use serde_json::{Value, json};

use crate::http::{request, start};

#[test]
fn the_python_sdk_gets_the_rest_api_answers_at_mcp() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let s = start(crate::quiet());
    let gke = json!({"service": "gke", "accelerator": "h100", "intent": "inference"});
    let cases = json!([
        {"label": "recipe", "tool": "resolve_recipe", "arguments": gke},
        {"label": "recipe_bad", "tool": "resolve_recipe", "arguments": {"accelerator": "h999"}},
        {"label": "query", "tool": "query_recipe", "arguments": {"criteria": gke, "selector": "deploymentOrder"}},
        {"label": "bundle", "tool": "render_bundle", "arguments": {"criteria": gke}},
    ]);
    let url = format!("http://{}/mcp", s.addr);
    let out = drive(&python, &cases, &["http", &url]);
    let calls = &out["calls"];
    assert_eq!(out["server"]["name"], "aicr");
    // The tools the MCP crate lists, with their schemas, as JSON.
    let listed = serde_json::to_value(aicr_mcp::tools::list()).unwrap();
    assert_eq!(
        out["tools"].as_array().unwrap().len(),
        listed.as_array().unwrap().len()
    );

    let rest = request(
        &s,
        "GET",
        "/v1/recipe?service=gke&accelerator=h100&intent=inference",
        &[],
        b"",
    );
    assert_eq!(rest.status, 200);
    let rest: Value = serde_json::from_slice(&rest.body).unwrap();
    assert_eq!(calls["recipe"]["is_error"], false);
    assert_eq!(calls["recipe"]["structured"], rest);
    assert_eq!(calls["recipe_bad"]["structured"]["code"], "INVALID_REQUEST");
    assert_eq!(
        calls["query"]["structured"]["value"],
        rest["deploymentOrder"]
    );
    assert!(
        calls["bundle"]["structured"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "checksums.txt")
    );
    let _ = s.stop.send(());
}

#[test]
fn the_allowlists_hold_for_the_tools() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let s = start(aicr_server::Config {
        allow: aicr_server::Allowlists::parse(Some("eks"), None, None, None).unwrap(),
        ..crate::quiet()
    });
    let cases = json!([
        {"label": "gke", "tool": "resolve_recipe", "arguments": {"service": "gke"}},
        {"label": "eks", "tool": "resolve_recipe", "arguments": {"service": "eks"}},
    ]);
    let out = drive(
        &python,
        &cases,
        &["http", &format!("http://{}/mcp", s.addr)],
    );
    let gke = &out["calls"]["gke"];
    assert_eq!(gke["structured"]["code"], "INVALID_REQUEST", "{gke}");
    assert!(
        gke["text"]
            .as_str()
            .unwrap()
            .contains("service type not allowed"),
        "{gke}"
    );
    assert_eq!(out["calls"]["eks"]["is_error"], false);
    let _ = s.stop.send(());
}

#[test]
fn mcp_bodies_are_capped_and_a_plain_post_lists_the_tools() {
    let s = start(crate::quiet());
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    let big = vec![b'a'; 2 << 20];
    assert_eq!(request(&s, "POST", "/mcp", &headers, &big).status, 413);
    // Stateless: a request needs no session from an earlier initialize.
    let list = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let reply = request(&s, "POST", "/mcp", &headers, list);
    assert_eq!(reply.status, 200);
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    let listed = serde_json::to_value(aicr_mcp::tools::list()).unwrap();
    assert_eq!(body["result"]["tools"], listed);
    let _ = s.stop.send(());
}
