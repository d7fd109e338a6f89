//! `aicr bundle` and `aicr verify` end to end: parity with the reference's
//! bundles, checksums, scripts, and bad input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use aicr_test_support::{conformance_dir, read_tree, yaml_docs};

use crate::support::run;

/// Deployers whose corpus cases this test checks (by case-name suffix);
/// adding a deployer is adding it here.
const DEPLOYERS: &[&str] = &["argocd-helm", "helmfile", "argocd", "helm", "flux"];

/// Files written in our own words: not compared.
fn is_prose_or_script(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.ends_with(".md")
        || matches!(
            base,
            "deploy.sh"
                | "undeploy.sh"
                | "install.sh"
                | "checksums.txt"
                | ".aicr-bundle"
                // Ours alone: the reference writes no BOM (tests/it/bom.rs checks it).
                | "bom.cdx.json"
        )
}

fn env_pairs(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_string(),
                v.trim().trim_matches('\'').to_string(),
            )
        })
        .collect()
}

fn template_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Differences between our file and the reference's, by the README rules.
fn compare(case: &str, path: &str, ours: &[u8], theirs: &[u8]) -> Option<String> {
    let (o, t) = (
        String::from_utf8_lossy(ours),
        String::from_utf8_lossy(theirs),
    );
    let differs = if path == "templates/aicr-stack.yaml" {
        false
    } else if (path.starts_with("templates/") || path.contains("/templates/"))
        && (o.contains("{{") || t.contains("{{"))
    {
        // Helm templates proper (argocd-helm Applications): text without
        // comments and blank lines. Manifests rendered at bundle time are
        // plain YAML and compared as data below.
        template_lines(&o) != template_lines(&t)
    } else if path.ends_with(".env") {
        env_pairs(&o) != env_pairs(&t)
    } else if path.ends_with(".yaml") || path.ends_with(".yml") {
        let mut theirs = yaml_docs(&t, path);
        // The one deliberate difference: the argocd-helm chart version is
        // valid SemVer (`0.1.0`) where the reference wrote `dev`.
        if case.ends_with("argocd-helm") && path == "Chart.yaml" && theirs[0]["version"] == "dev" {
            theirs[0]["version"] = Value::from("0.1.0");
        }
        yaml_docs(&o, path) != theirs
    } else {
        ours != theirs
    };
    differs.then(|| format!("{case}: {path} differs"))
}

/// `recipe.yaml` is the input recipe minus the components `--set` disabled.
/// The reference also writes flag-derived values (the storage class) into
/// the components' overrides there; we do not, so the reference's overrides
/// are replaced by the input's before comparing. Which components remain
/// must still agree.
fn compare_recipe(case: &str, case_dir: &Path, ours: &[u8], theirs: &[u8]) -> Option<String> {
    let input = yaml_docs(
        &std::fs::read_to_string(case_dir.join("recipe.yaml")).unwrap(),
        "input recipe.yaml",
    )
    .remove(0);
    let mut theirs = yaml_docs(&String::from_utf8_lossy(theirs), "recipe.yaml").remove(0);
    let input_refs = input["componentRefs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in theirs["componentRefs"].as_array_mut().into_iter().flatten() {
        let original = input_refs.iter().find(|i| i["name"] == c["name"]);
        match original.and_then(|o| o.get("overrides")) {
            Some(overrides) => c["overrides"] = overrides.clone(),
            None => {
                c.as_object_mut().unwrap().shift_remove("overrides");
            }
        }
    }
    let ours = yaml_docs(&String::from_utf8_lossy(ours), "recipe.yaml").remove(0);
    (ours != theirs).then(|| format!("{case}: recipe.yaml differs"))
}

fn check_checksums(case: &str, ours: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(text) = ours.get("checksums.txt") else {
        return vec![format!("{case}: no checksums.txt")];
    };
    let text = String::from_utf8_lossy(text);
    let mut listed = Vec::new();
    for line in text.lines() {
        let (hex, path) = line.split_once("  ").unwrap();
        let want = ours.get(path).map(|b| format!("{:x}", Sha256::digest(b)));
        if want.as_deref() != Some(hex) {
            problems.push(format!("{case}: checksum of {path} is wrong"));
        }
        listed.push(path.to_string());
    }
    let expected: Vec<String> = ours
        .keys()
        .filter(|p| *p != "checksums.txt" && *p != ".aicr-bundle")
        .cloned()
        .collect();
    if listed != expected {
        problems.push(format!(
            "{case}: checksums.txt does not list every other file in sorted order"
        ));
    }
    problems
}

fn args_of(case_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(case_dir.join("args.txt"))
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Runs `aicr bundle` for a corpus case into a fresh directory.
fn bundle_case(conf: &Path, case_dir: &Path, out: &Path) -> (i32, String) {
    let mut args: Vec<String> = vec![
        "bundle".into(),
        "--recipe".into(),
        case_dir.join("recipe.yaml").display().to_string(),
        "--output".into(),
        out.display().to_string(),
        "--catalog".into(),
        conf.join("upstream-catalog").display().to_string(),
    ];
    args.extend(args_of(case_dir));
    let (code, _, err) = run(&args);
    (code, err)
}

fn cases(conf: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(conf.join("bundle"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            DEPLOYERS
                .iter()
                .any(|d| name.ends_with(d))
                .then_some((name, p))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn bundles_match_the_reference_for_every_deployer() {
    let Some(conf) = conformance_dir() else {
        return;
    };
    let cases = cases(&conf);
    assert!(!cases.is_empty());
    let mut passed = 0;
    let mut failures = Vec::new();
    for (name, dir) in &cases {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("bundle");
        let (code, err) = bundle_case(&conf, dir, &out);
        if code != 0 {
            failures.push(format!("{name}: exit {code}: {err}"));
            continue;
        }
        let ours = read_tree(&out);
        let theirs = read_tree(&dir.join("expected"));
        let mut problems = check_checksums(name, &ours);
        let set = |m: &BTreeMap<String, Vec<u8>>| -> BTreeSet<String> {
            m.keys()
                .filter(|p| !is_prose_or_script(p))
                .cloned()
                .collect()
        };
        let (our_set, their_set) = (set(&ours), set(&theirs));
        for p in their_set.difference(&our_set) {
            problems.push(format!("{name}: missing {p}"));
        }
        for p in our_set.difference(&their_set) {
            problems.push(format!("{name}: unexpected {p}"));
        }
        for p in our_set.intersection(&their_set) {
            if p == "recipe.yaml" {
                problems.extend(compare_recipe(name, dir, &ours[p], &theirs[p]));
            } else {
                problems.extend(compare(name, p, &ours[p], &theirs[p]));
            }
        }
        if problems.is_empty() {
            passed += 1;
        } else {
            failures.extend(problems);
        }
    }
    println!("bundle parity {passed}/{}", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A corpus case's recipe, for the tests below.
fn recipe_of(conf: &Path, case: &str) -> PathBuf {
    conf.join("bundle").join(case).join("recipe.yaml")
}

fn catalog_of(conf: &Path) -> String {
    conf.join("upstream-catalog").display().to_string()
}

#[test]
fn generated_scripts_pass_bash_syntax_check_and_verify_catches_tampering() {
    let Some(conf) = conformance_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let recipe = recipe_of(&conf, "eks-gb200-ubuntu-inference-dynamo-helm");
    let (code, _, err) = run([
        "bundle".as_ref(),
        "-r".as_ref(),
        recipe.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--catalog".as_ref(),
        catalog_of(&conf).as_ref(),
    ]);
    assert_eq!(code, 0, "{err}");
    let scripts: Vec<String> = read_tree(&out)
        .into_keys()
        .filter(|p| p.ends_with(".sh"))
        .collect();
    assert!(scripts.len() > 20);
    for s in &scripts {
        let status = std::process::Command::new("bash")
            .arg("-n")
            .arg(out.join(s))
            .status()
            .expect("bash runs");
        assert!(status.success(), "bash -n {s}");
    }

    let (code, text, _) = run(["verify".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0, "{text}");
    let values = out.join("015-gpu-operator/values.yaml");
    let mut body = std::fs::read_to_string(&values).unwrap();
    body.push_str("extra: true\n");
    std::fs::write(&values, body).unwrap();
    std::fs::remove_file(out.join("deploy.sh")).unwrap();
    std::fs::write(out.join("001-agentgateway-crds/evil.yaml"), "x: 1\n").unwrap();
    let (code, text, err) = run(["verify".as_ref(), out.as_os_str()]);
    assert_eq!(code, 4, "{text}{err}");
    assert!(
        text.contains("015-gpu-operator/values.yaml: checksum mismatch"),
        "{text}"
    );
    assert!(text.contains("deploy.sh: missing"), "{text}");
    assert!(
        text.contains("001-agentgateway-crds/evil.yaml: not listed"),
        "{text}"
    );
    assert!(err.contains("UNAUTHORIZED"), "{err}");
    let (code, json, _) = run([
        "verify".as_ref(),
        out.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(code, 4);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_is_a_typed_error_and_writes_nothing() {
    let Some(conf) = conformance_dir() else {
        return;
    };
    let recipe = recipe_of(&conf, "flags1-helm").display().to_string();
    let catalog = catalog_of(&conf);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out_s = out.display().to_string();
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["bundle", "-r", &recipe, "-o", &out_s, "--catalog", &catalog]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--deployer", "kustomize"], 2, "invalid deployer type"),
        (&["--set", "gpuoperator-driver.version"], 2, "invalid --set"),
        (&["--set", "nosuch:a=b"], 2, "not in the recipe"),
        (
            &[
                "--deployer",
                "argocd",
                "--dynamic",
                "gpuoperator:driver.version",
            ],
            2,
            "DynamicValues is not supported with the argocd deployer",
        ),
        (&["--storage-class", " "], 2, "--storage-class"),
        (
            &["--system-node-toleration", "a=b"],
            2,
            "invalid toleration",
        ),
    ];
    for (extra, status, needle) in cases {
        let (code, _, err) = run(base(extra));
        assert_eq!(code, *status, "{extra:?}: {err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!out.exists(), "{extra:?} wrote {}", out.display());
    }
    let siblings = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(siblings, 0, "temporary directories left behind");

    let (code, _, err) = run([
        "bundle",
        "-r",
        &recipe,
        "-o",
        "oci://r/X:1",
        "--catalog",
        &catalog,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid OCI reference"), "{err}");

    // Missing recipe file: NOT_FOUND with the absolute path.
    let (code, _, err) = run([
        "bundle",
        "-r",
        "/nonexistent/recipe.yaml",
        "-o",
        &out_s,
        "--catalog",
        &catalog,
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("recipe file not found: /nonexistent/recipe.yaml"),
        "{err}"
    );

    // A document of another kind.
    let other = tmp.path().join("snap.yaml");
    std::fs::write(
        &other,
        "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\n",
    )
    .unwrap();
    let (code, _, err) = run([
        "bundle",
        "-r",
        &other.display().to_string(),
        "-o",
        &out_s,
        "--catalog",
        &catalog,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("recipe file has kind \"Snapshot\", but \"RecipeResult\" is required"),
        "{err}"
    );
    std::fs::remove_file(&other).unwrap();

    // Output below a regular file: the user's mistake.
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let below = file.join("bundle").display().to_string();
    let (code, _, err) = run(["bundle", "-r", &recipe, "-o", &below, "--catalog", &catalog]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    // A non-empty directory that is not a bundle needs --force, which
    // replaces it as a whole.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let (code, _, err) = run(base(&[]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    let (code, _, err) = run(base(&["--force"]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.join("notes.txt").exists());
    assert!(out.join("checksums.txt").is_file());
    let (code, _, err) = run(["verify".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0, "{err}");

    // An unchanged previous bundle is replaced without --force; folders of
    // components no longer in it go.
    let (code, _, err) = run(base(&["--set", "gpuoperator:enabled=false"]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.join("009-gpu-operator-post").exists());

    // An edited one is not.
    std::fs::create_dir(out.join("099-stale")).unwrap();
    std::fs::write(out.join("099-stale/values.yaml"), "a: 1").unwrap();
    let (code, _, err) = run(base(&[]));
    assert_eq!(code, 2, "{err}");
    assert!(out.join("099-stale").exists());
}

#[test]
fn config_supplies_bundle_defaults_and_flags_win() {
    let Some(conf) = conformance_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("from-config");
    let config = tmp.path().join("aicr.yaml");
    std::fs::write(
        &config,
        format!(
            "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  bundle:\n    input:\n      recipe: {}\n    output:\n      target: {}\n    deployment:\n      deployer: helmfile\n    scheduling:\n      systemNodeSelector:\n        nodeGroup: system\n",
            recipe_of(&conf, "flags1-helm").display(),
            out.display()
        ),
    )
    .unwrap();
    let config_s = config.display().to_string();
    let catalog = catalog_of(&conf);
    let (code, _, err) = run(["bundle", "--config", &config_s, "--catalog", &catalog]);
    assert_eq!(code, 0, "{err}");
    assert!(out.join("helmfile.yaml").is_file());
    let cert_manager = read_tree(&out)
        .into_keys()
        .find(|p| p.ends_with("-cert-manager/values.yaml"))
        .unwrap();
    let values = std::fs::read_to_string(out.join(cert_manager)).unwrap();
    assert!(values.contains("nodeGroup: system"), "{values}");

    let out2 = tmp.path().join("flag-wins");
    let out2_s = out2.display().to_string();
    let (code, _, err) = run([
        "bundle",
        "--config",
        &config_s,
        "--catalog",
        &catalog,
        "-d",
        "argocd",
        "-o",
        &out2_s,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out2.join("app-of-apps.yaml").is_file());
}

/// Every deployer's `bom.cdx.json` validates against the CycloneDX 1.6
/// JSON schema, checked by CycloneDX's own Python library (strict:
/// unknown keys are errors) from the tools venv that
/// scripts/install_real_tools.sh makes.
#[test]
fn the_bom_of_every_deployer_matches_the_cyclonedx_schema() {
    let Some(conf) = conformance_dir() else {
        return;
    };
    let python = aicr_test_support::repo_root().join("target/tools/venv/bin/python");
    let has_cyclonedx = python.is_file()
        && std::process::Command::new(&python)
            .args(["-c", "import cyclonedx.validation.json, jsonschema"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_cyclonedx {
        assert!(
            std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
            "cyclonedx-python-lib is missing from the tools venv: run scripts/install_real_tools.sh"
        );
        eprintln!("skipped: run scripts/install_real_tools.sh for the CycloneDX validator");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut boms = Vec::new();
    for deployer in DEPLOYERS {
        let out = tmp.path().join(deployer);
        let (code, _, err) = run([
            "bundle",
            "-r",
            recipe_of(&conf, "eks-gb200-ubuntu-inference-dynamo-helm")
                .to_str()
                .unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--catalog",
            &catalog_of(&conf),
            "--deployer",
            deployer,
            "--repo",
            "https://git.example.com/org/gitops.git",
        ]);
        assert_eq!(code, 0, "{deployer}: {err}");
        boms.push(out.join("bom.cdx.json"));
    }
    let script = "import sys\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        from cyclonedx.schema import SchemaVersion\n\
        v = JsonStrictValidator(SchemaVersion.V1_6)\n\
        bad = 0\n\
        for p in sys.argv[1:]:\n\
        \x20   e = v.validate_str(open(p).read())\n\
        \x20   if e is not None:\n\
        \x20       bad += 1\n\
        \x20       print(p, e.data.message)\n\
        sys.exit(1 if bad else 0)\n";
    let check = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(&boms)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
