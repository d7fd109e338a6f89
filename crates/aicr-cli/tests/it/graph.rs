//! `aicr recipe -t dot|mermaid`: the deployment graph drawn for the real
//! tools. Graphviz's `dot` lays out every drawing and Mermaid's own parser
//! reads every flowchart (both from scripts/install_real_tools.sh); the
//! drawings hold every component and every `dependencyRefs` edge of the
//! recipe `-t json` prints for the same query.

use std::collections::BTreeSet;
use std::process::Command;

use aicr_test_support::repo_root;
use serde_json::Value;

use crate::support::run;

const QUERIES: &[&[&str]] = &[
    &[
        "--service",
        "eks",
        "--accelerator",
        "h100",
        "--intent",
        "training",
        "--os",
        "ubuntu",
        "--platform",
        "kubeflow",
    ],
    &[
        "--service",
        "eks",
        "--accelerator",
        "gb200",
        "--intent",
        "inference",
        "--platform",
        "dynamo",
    ],
    &[
        "--service",
        "gke",
        "--accelerator",
        "h100",
        "--intent",
        "inference",
    ],
];

fn recipe(query: &[&str], format: &str) -> String {
    let mut args = vec!["recipe", "-t", format];
    args.extend_from_slice(query);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// `(dependency, dependent)` pairs of a recipe, by name.
fn edges(recipe: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for c in recipe["componentRefs"].as_array().unwrap() {
        for d in c["dependencyRefs"].as_array().into_iter().flatten() {
            out.insert((
                d.as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// Node index → component name, from `N [ label = "name\l..." ]` lines,
/// and the `A -> B` edges by name.
fn dot_graph(dot: &str) -> (Vec<String>, BTreeSet<(String, String)>) {
    let mut names = Vec::new();
    let mut pairs = Vec::new();
    for line in dot.lines().map(str::trim) {
        if let Some((id, rest)) = line.split_once(" [ label = \"") {
            assert_eq!(id.parse::<usize>().unwrap(), names.len());
            names.push(rest.split("\\l").next().unwrap().to_string());
        } else if let Some((a, b)) = line.split_once(" -> ") {
            let b = b.split_whitespace().next().unwrap();
            pairs.push((a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()));
        }
    }
    let edges = pairs
        .into_iter()
        .map(|(a, b)| (names[a].clone(), names[b].clone()))
        .collect();
    (names, edges)
}

#[test]
fn dot_holds_every_component_and_edge_in_install_order() {
    for query in QUERIES {
        let doc: Value = serde_json::from_str(&recipe(query, "json")).unwrap();
        let (names, drawn) = dot_graph(&recipe(query, "dot"));
        let order: Vec<String> = serde_json::from_value(doc["deploymentOrder"].clone()).unwrap();
        assert_eq!(names, order, "{query:?}: nodes in deploymentOrder");
        assert_eq!(drawn, edges(&doc), "{query:?}");
        // Same query, same bytes.
        assert_eq!(recipe(query, "dot"), recipe(query, "dot"));
    }
}

#[test]
fn a_drawing_is_refused_where_it_cannot_go() {
    let (code, _, err) = run([
        "query",
        "--service",
        "eks",
        "-t",
        "mermaid",
        "--selector",
        "components",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[INVALID_REQUEST]"), "{err}");
    let (code, _, err) = run([
        "recipe",
        "--service",
        "eks",
        "-t",
        "dot",
        "-o",
        "cm://ns/name",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a ConfigMap"), "{err}");
    let (code, _, err) = run(["recipe", "--service", "eks", "-t", "png"]);
    assert_eq!(code, 2);
    assert!(err.contains("dot, mermaid"), "{err}");
}

fn tools_or_skip(what: &str, ok: bool) -> bool {
    if !ok {
        assert!(
            std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
            "{what} is required but missing: run scripts/install_real_tools.sh"
        );
        eprintln!("skipped: {what} missing (run scripts/install_real_tools.sh)");
    }
    ok
}

#[test]
fn graphviz_lays_out_every_drawing() {
    let has_dot = Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !tools_or_skip("Graphviz (dot)", has_dot) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (i, query) in QUERIES.iter().enumerate() {
        let file = tmp.path().join(format!("{i}.dot"));
        let drawing = recipe(query, "dot");
        std::fs::write(&file, &drawing).unwrap();
        let out = Command::new("dot")
            .arg("-Tsvg")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Graphviz reports syntax problems as errors and some as warnings
        // with exit 0: either one fails the drawing.
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{query:?}: {stderr}"
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        let (names, edges) = dot_graph(&drawing);
        assert_eq!(
            svg.matches("class=\"node\"").count(),
            names.len(),
            "{query:?}"
        );
        assert_eq!(
            svg.matches("class=\"edge\"").count(),
            edges.len(),
            "{query:?}"
        );
    }
}

#[test]
fn mermaid_parses_every_flowchart() {
    let tools = repo_root().join("target/tools");
    let installed = tools.join("node_modules/mermaid/package.json").is_file()
        && tools.join("node_modules/jsdom/package.json").is_file();
    if !tools_or_skip("the mermaid npm package", installed) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, query) in QUERIES.iter().enumerate() {
        let file = tmp.path().join(format!("{i}.mmd"));
        std::fs::write(&file, recipe(query, "mermaid")).unwrap();
        files.push(file);
    }
    // A broken chart must fail, or the check proves nothing.
    let broken = tmp.path().join("broken.mmd");
    std::fs::write(&broken, "flowchart LR\n  a[\"x\" --> \n").unwrap();
    let parse = |files: &[std::path::PathBuf]| {
        Command::new("node")
            .arg(repo_root().join("scripts/mermaid_parse.mjs"))
            .args(files)
            .env("AICR_TOOLS_DIR", &tools)
            .output()
            .unwrap()
    };
    let out = parse(&files);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches(" ok flowchart").count(),
        QUERIES.len(),
        "{stdout}"
    );
    assert!(!parse(&[broken]).status.success());
}
