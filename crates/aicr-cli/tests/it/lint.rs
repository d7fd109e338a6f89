//! `aicr recipe lint`.

use aicr_test_support::{catalog_copy, edit};

use crate::support::run;

#[test]
fn lint_of_the_embedded_catalog_reports_its_size() {
    let (code, out, err) = run(["recipe", "lint"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("catalog OK: "), "{out}");
    assert!(
        out.contains(" overlays, ") && out.contains(" components"),
        "{out}"
    );
}

#[test]
fn lint_prints_one_line_per_problem_and_exits_2() {
    let dir = catalog_copy();
    edit(
        dir.path(),
        "overlays/eks/eks.yaml",
        "K8s.server.version",
        "K8s.server.verison",
    );
    let (code, out, err) = run([
        "recipe".as_ref(),
        "lint".as_ref(),
        "--catalog".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("overlays/eks/eks.yaml: spec.constraints[0].name: unknown key \"verison\""),
        "{out}"
    );
    assert!(
        out.trim_end()
            .ends_with("(did you mean K8s.server.version?)"),
        "{out}"
    );
    assert!(
        err.contains("[INVALID_REQUEST] catalog has 1 problem"),
        "{err}"
    );
}

#[test]
fn recipe_flags_still_work_beside_the_lint_subcommand() {
    let (code, out, err) = run(["recipe", "--service", "eks", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"RecipeResult\""), "{out}");
    let (code, _, err) = run(["recipe", "lint", "--service", "eks"]);
    assert_ne!(code, 0, "{err}");
}
