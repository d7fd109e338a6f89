//! Recipe data never executes: hostile identifiers are refused when a
//! bundle is made, and hostile values that are allowed (Helm values) reach
//! only YAML, never a command line. Every generated script is run with
//! stub `helm` and `kubectl` on `PATH` to prove it.

use std::path::Path;

use aicr_bundle::{Deployer, FileTree};
use aicr_core::{Code, Components, RecipeResult};
use serde_json::Value;

use crate::support::{case, options};

/// Payloads that run `touch PWNED` if a shell ever evaluates them.
const PAYLOADS: [&str; 8] = [
    "$(touch PWNED)",
    "`touch PWNED`",
    "x; touch PWNED",
    "x' ; touch PWNED; '",
    "x\" ; touch PWNED; \"",
    "*",
    "x\ntouch PWNED",
    "x$(touch${IFS}PWNED)",
];

fn sample() -> Option<(Components, RecipeResult)> {
    case("eks-gb200-ubuntu-inference-dynamo-helm")
}

fn bundle(
    catalog: &Components,
    recipe: &RecipeResult,
    deployer: Deployer,
) -> aicr_core::Result<FileTree> {
    aicr_bundle::bundle(catalog, recipe, &options(deployer), &Default::default())
}

#[test]
fn hostile_identifiers_are_refused_for_every_deployer() {
    let Some((catalog, recipe)) = sample() else {
        return;
    };
    type Set = fn(&mut aicr_core::ResolvedComponent, String);
    let fields: [(&str, Set); 6] = [
        ("name", |c, v| c.name = v),
        ("namespace", |c, v| c.namespace = v),
        ("chart", |c, v| c.chart = v),
        ("version", |c, v| c.version = v),
        ("source", |c, v| c.source = format!("https://x/{v}")),
        ("dependencyRefs", |c, v| c.dependency_refs.push(v)),
    ];
    for deployer in Deployer::ALL {
        for (field, set) in &fields {
            for payload in PAYLOADS {
                let mut bad = recipe.clone();
                set(&mut bad.component_refs[0], payload.to_string());
                let err = bundle(&catalog, &bad, deployer).unwrap_err();
                assert_eq!(
                    err.code(),
                    Code::InvalidRequest,
                    "{field} {payload:?}: {err}"
                );
                assert!(!err.to_string().contains('\n'), "{err}");
            }
        }
        let mut empty_namespace = recipe.clone();
        empty_namespace.component_refs[0].namespace.clear();
        assert!(bundle(&catalog, &empty_namespace, deployer).is_err());
        let mut twice = recipe.clone();
        let first = twice.component_refs[0].clone();
        twice.component_refs.push(first);
        assert!(bundle(&catalog, &twice, deployer).is_err());
    }
}

/// Stub `helm` and `kubectl` that only record that they ran.
fn stubs(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for tool in ["helm", "kubectl"] {
        let path = dir.join(tool);
        std::fs::write(
            &path,
            "#!/bin/sh\necho \"$0 $*\" >> \"$STUB_LOG\"\nexit 0\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn run_script(script: &Path, bin: &Path, log: &Path) {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = std::process::Command::new("bash")
        .arg(script)
        .arg("--dry-run")
        .current_dir(script.parent().unwrap())
        .env("PATH", path)
        .env("STUB_LOG", log)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    assert!(status.is_ok(), "{}", script.display());
}

#[cfg(unix)]
#[test]
fn hostile_values_reach_yaml_only_and_no_script_executes_them() {
    let Some((catalog, mut recipe)) = sample() else {
        return;
    };
    for (i, payload) in PAYLOADS.iter().enumerate() {
        recipe.component_refs[0]
            .overrides
            .insert(format!("hostile{i}"), Value::String(payload.to_string()));
    }
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    stubs(&bin);
    for deployer in Deployer::ALL {
        let tree = bundle(&catalog, &recipe, deployer).unwrap();
        for (path, file) in tree.iter() {
            let text = String::from_utf8_lossy(&file.bytes);
            if path.ends_with(".yaml") {
                // A value never starts a new document or a new key.
                assert!(!text.contains("\n---\ntouch"), "{path}");
                assert!(!text.contains("\ntouch PWNED"), "{path}");
            }
        }
        let dir = work.path().join(deployer.as_str());
        aicr_bundle::write_tree(&tree, &dir, false).unwrap();
        let log = work.path().join(format!("{}.log", deployer.as_str()));
        for (path, _) in tree.iter().filter(|(p, _)| p.ends_with(".sh")) {
            run_script(&dir.join(path), &bin, &log);
        }
        if deployer == Deployer::Helm {
            let calls = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                calls.contains("helm upgrade --install"),
                "the scripts ran: {calls}"
            );
        }
        let mut pwned = Vec::new();
        find_named(work.path(), "PWNED", &mut pwned);
        assert!(
            pwned.is_empty(),
            "{deployer:?} executed recipe data: {pwned:?}"
        );
    }
}

fn find_named(dir: &Path, name: &str, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_name() == name {
            out.push(path.clone());
        }
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            find_named(&path, name, out);
        }
    }
}

#[test]
fn a_tool_version_that_could_end_a_script_comment_is_refused() {
    let Some((catalog, recipe)) = sample() else {
        return;
    };
    for deployer in Deployer::ALL {
        let mut options = options(deployer);
        options.tool_version = "v1\ntouch PWNED".into();
        let err =
            aicr_bundle::bundle(&catalog, &recipe, &options, &Default::default()).unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    }
}
