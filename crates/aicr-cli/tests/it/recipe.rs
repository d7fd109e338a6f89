//! `aicr recipe` and `aicr query`: parity through the binary, determinism,
//! output files, and every kind of bad input.

use aicr_test_support::{
    catalog_copy, conformance_dir, edit, reference_queries, strip_recipe, yaml,
};

use crate::support::run;

/// Every query when `AICR_FULL_CLI_CORPUS` is set, every 25th otherwise.
#[test]
fn cli_output_parses_to_the_reference_recipe() {
    let Some(dir) = conformance_dir() else { return };
    let catalog = dir.join("upstream-catalog");
    let step = if std::env::var_os("AICR_FULL_CLI_CORPUS").is_some() {
        1
    } else {
        25
    };
    let mut checked = 0;
    for q in reference_queries(&dir).iter().step_by(step) {
        let mut args = vec![
            "recipe".to_string(),
            "--catalog".into(),
            catalog.display().to_string(),
        ];
        args.extend(q.cli_args());
        args.extend(["-t".into(), "yaml".into()]);
        let (code, out, err) = run(&args);
        assert_eq!(code, q.exit, "{args:?}: {err}");
        if let Some(code) = q.expected.strip_prefix("error:") {
            assert!(err.contains(&format!("[{code}]")), "{err}");
        } else {
            let want = yaml(
                &std::fs::read_to_string(dir.join(format!("recipe/outputs/{}.yaml", q.expected)))
                    .unwrap(),
            );
            assert_eq!(strip_recipe(yaml(&out)), want, "{args:?}");
        }
        checked += 1;
    }
    println!("checked {checked} queries through the CLI");
}

#[test]
fn same_inputs_give_byte_identical_output() {
    let args = [
        "recipe",
        "--service",
        "eks",
        "--gpu",
        "gb200",
        "--os",
        "ubuntu",
        "--intent",
        "training",
    ];
    let first = run(args);
    assert_eq!(first.0, 0, "{}", first.2);
    for _ in 0..3 {
        assert_eq!(run(args).1, first.1);
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("r.json");
    let (code, _, _) = run([
        "recipe",
        "--service",
        "eks",
        "-t",
        "json",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let (_, stdout, _) = run(["recipe", "--service", "eks", "-t", "json"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );
}

#[test]
fn query_prints_scalars_plainly_and_documents_as_yaml() {
    assert_eq!(
        run([
            "query",
            "--service",
            "eks",
            "--selector",
            "criteria.service"
        ])
        .1,
        "eks\n"
    );
    assert_eq!(
        run([
            "query",
            "--service",
            "eks",
            "--selector",
            ".criteria.service",
            "-t",
            "json"
        ])
        .1,
        "\"eks\"\n"
    );
    let (code, out, _) = run(["query", "--service", "eks", "--selector", ""]);
    assert_eq!(code, 0);
    let doc = yaml(&out);
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "apiVersion",
            "components",
            "constraints",
            "criteria",
            "deploymentOrder",
            "kind",
            "metadata"
        ]
    );
    let (code, _, err) = run(["query", "--service", "eks", "--selector", "components.nope"]);
    assert_eq!(code, 3);
    assert!(
        err.contains("available keys: aws-ebs-csi-driver, aws-efa"),
        "{err}"
    );
    assert_eq!(
        run([
            "query",
            "--service",
            "eks",
            "--selector",
            "criteria.service.x"
        ])
        .0,
        3
    );
    assert_eq!(
        run(["query", "--service", "eks"]).0,
        1,
        "--selector is required"
    );
}

/// Runs a failing `aicr recipe -o FILE` and checks the status, the message
/// and that no file was written.
fn fails(extra: &[&str], code: i32, message: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("recipe.yaml");
    let mut args = vec!["recipe", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (got, _, err) = run(&args);
    assert_eq!(got, code, "{args:?}: {err}");
    assert!(err.contains(message), "{args:?}: {err:?} lacks {message:?}");
    assert!(!out.exists(), "{args:?} wrote output");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "{args:?} left files"
    );
}

#[test]
fn bad_criteria_and_flags_are_invalid_requests() {
    fails(&[], 2, "no criteria provided");
    fails(
        &["--service", "windows"],
        2,
        "invalid service type: windows",
    );
    fails(&["--gpu", "h800"], 2, "invalid accelerator type: h800");
    fails(&["--service", "self-managed"], 2, "no criteria provided");
    fails(
        &["--service", "eks", "--service", "gke"],
        2,
        "flag --service can only be specified once",
    );
    fails(
        &["--service", "eks", "-t", "xml"],
        2,
        "unknown output format: \"xml\"",
    );
    // As `bundle --nodes -1` (the reference's `recipe` ignored it).
    fails(
        &["--service", "eks", "--nodes", "-1"],
        2,
        "nodes must be a non-negative integer",
    );
    let (code, _, err) = run(["recipe", "--criteria", "x.yaml"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn aliases_normalise_criteria() {
    let (code, out, _) = run([
        "recipe",
        "--service",
        "EKS",
        "--gpu",
        "H100",
        "--os",
        "al2023",
        "-o",
        "-",
    ]);
    assert_eq!(code, 0);
    let doc = yaml(&out);
    assert_eq!(doc["criteria"]["service"], "eks");
    assert_eq!(doc["criteria"]["accelerator"], "h100");
    assert_eq!(doc["criteria"]["os"], "amazonlinux");
}

/// Breaks one line of an overlay in a catalog copy and checks that
/// resolving eks/h100/training on it fails with `message`.
fn broken(file: &str, from: &str, to: &str, message: &str) {
    let cat = catalog_copy();
    edit(cat.path(), file, from, to);
    let dir = cat.path().to_str().unwrap();
    let query = ["--service", "eks", "--gpu", "h100", "--intent", "training"];
    fails(&[&query[..], &["--catalog", dir]].concat(), 2, message);
}

#[test]
fn broken_catalogs_fail_with_the_file_and_field() {
    broken(
        "overlays/eks/eks.yaml",
        "componentRefs:",
        "componentRef:",
        "eks.yaml",
    );
    broken(
        "overlays/eks/eks.yaml",
        "kind: RecipeMetadata",
        "kind: RecipeMetaData",
        "eks.yaml:",
    );
    broken(
        "overlays/eks/eks.yaml",
        "service: eks",
        "service: ekss",
        "invalid service type: ekss",
    );
    broken(
        "overlays/eks/eks-training.yaml",
        "base: eks",
        "base: h100-eks-training",
        "circular inheritance",
    );
}

#[test]
fn missing_values_files_and_escaping_paths_are_reported() {
    let cat = catalog_copy();
    std::fs::remove_file(cat.path().join("components/cert-manager/values.yaml")).unwrap();
    let (code, _, err) = run([
        "query",
        "--service",
        "eks",
        "--selector",
        ".",
        "--catalog",
        cat.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("components/cert-manager/values.yaml"), "{err}");

    let data = tempfile::tempdir().unwrap();
    let registry =
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents: []\n";
    std::fs::write(data.path().join("registry.yaml"), registry).unwrap();
    std::fs::create_dir(data.path().join("overlays")).unwrap();
    let overlay = "kind: RecipeMetadata\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  name: sneaky\nspec:\n  criteria:\n    service: lke\n  componentRefs:\n    - name: cert-manager\n      valuesFile: ../../../etc/passwd\n";
    std::fs::write(data.path().join("overlays/sneaky.yaml"), overlay).unwrap();
    let (code, _, err) = run([
        "query",
        "--service",
        "lke",
        "--selector",
        ".",
        "--data",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("escapes the data directory"), "{err}");
}

#[test]
fn data_directory_layers_over_the_embedded_catalog() {
    let data = tempfile::tempdir().unwrap();
    let registry = "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents:\n  - name: cert-manager\n    helm:\n      defaultRepository: https://charts.example.com\n      defaultChart: example/cert-manager\n      defaultNamespace: certs\n";
    std::fs::write(data.path().join("registry.yaml"), registry).unwrap();
    let (code, out, err) = run([
        "query",
        "--service",
        "eks",
        "--selector",
        "components.cert-manager.namespace",
        "--data",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "certs\n",
        "the external registry entry replaces the embedded one"
    );
    let (_, out, _) = run([
        "query",
        "--service",
        "eks",
        "--selector",
        "components.gpu-operator.chart",
        "--data",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(out, "gpu-operator\n", "embedded registry entries are kept");

    // Mistakes in --data are the user's: never INTERNAL.
    fails(
        &["--service", "eks", "--data", "/nonexistent/aicr-data"],
        3,
        "/nonexistent/aicr-data",
    );
    let empty = tempfile::tempdir().unwrap();
    fails(
        &["--service", "eks", "--data", empty.path().to_str().unwrap()],
        2,
        "registry.yaml",
    );
    let file = empty.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    fails(
        &["--service", "eks", "--data", file.to_str().unwrap()],
        2,
        "not a directory",
    );
    #[cfg(unix)]
    {
        let linked = tempfile::tempdir().unwrap();
        std::fs::write(linked.path().join("registry.yaml"), registry).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", linked.path().join("evil.yaml")).unwrap();
        fails(
            &[
                "--service",
                "eks",
                "--data",
                linked.path().to_str().unwrap(),
            ],
            2,
            "symlinks are not allowed",
        );
        // A linked --data directory itself is followed.
        let target = tempfile::tempdir().unwrap();
        std::fs::write(target.path().join("registry.yaml"), registry).unwrap();
        let link = linked
            .path()
            .join("..")
            .join(format!("aicr-data-link-{}", std::process::id()));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target.path(), &link).unwrap();
        let (code, _, err) = run([
            "recipe",
            "--service",
            "eks",
            "--data",
            link.to_str().unwrap(),
        ]);
        let _ = std::fs::remove_file(&link);
        assert_eq!(code, 0, "{err}");
    }
}

#[test]
fn config_file_gives_defaults_that_flags_override() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("c.yaml");
    std::fs::write(&config, "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  recipe:\n    criteria:\n      service: eks\n      accelerator: h100\n").unwrap();
    let c = config.to_str().unwrap();
    let (code, out, err) = run(["query", "--config", c, "--selector", "criteria"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(yaml(&out)["service"], "eks");
    let (_, out, _) = run([
        "query",
        "--config",
        c,
        "--service",
        "gke",
        "--selector",
        "criteria",
    ]);
    assert_eq!(yaml(&out)["service"], "gke");
    assert_eq!(yaml(&out)["accelerator"], "h100");

    fails(&["--config", "/does/not/exist.yaml"], 3, "not found");
    fails(&["--config", "cm://ns/x"], 2, "local file");
    std::fs::write(
        &config,
        "kind: NotARealKind\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  recipe: {}\n",
    )
    .unwrap();
    fails(
        &["--config", c],
        2,
        r#"kind is "NotARealKind", expected "AICRConfig""#,
    );
    std::fs::write(
        &config,
        "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  recipe:\n    foo: 1\n",
    )
    .unwrap();
    fails(&["--config", c], 2, "foo");
}

#[test]
fn version_and_unknown_commands() {
    let (code, out, _) = run(["--version"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "aicr version v0.1.0 (commit: unknown, date: unknown)\n")
    );
    let (code, _, err) = run(["version"]);
    assert_eq!(code, 3);
    assert!(err.contains("No help topic for 'version'"));
    assert_eq!(run(Vec::<String>::new()).0, 0);
}
