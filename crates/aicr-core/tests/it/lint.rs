//! The recipe lint on real catalogs and on catalogs broken one defect at a time.

use aicr_core::lint::{LintReport, Problem, lint};
use aicr_core::{DirProvider, EmbeddedProvider};
use aicr_test_support::{catalog_copy, conformance_path, edit};

fn show(report: &LintReport) -> String {
    report
        .problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn embedded_catalog_has_no_problems() {
    let report = lint(&EmbeddedProvider);
    assert!(report.is_ok(), "{}", show(&report));
    assert!(report.overlays > 50 && report.mixins > 3 && report.components > 20);
}

#[test]
fn upstream_catalog_has_no_problems() {
    let Some(dir) = conformance_path("upstream-catalog") else {
        return;
    };
    let report = lint(&DirProvider::open(&dir).unwrap());
    assert!(report.is_ok(), "{}", show(&report));
}

/// A copy of `recipes/` with one defect introduced by `edit`.
struct Broken(tempfile::TempDir);

impl Broken {
    fn new() -> Self {
        Broken(catalog_copy())
    }

    /// Replaces the first occurrence of `from` in `file` with `to`.
    fn replace(self, file: &str, from: &str, to: &str) -> Self {
        edit(self.0.path(), file, from, to);
        self
    }

    fn write(self, file: &str, text: &str) -> Self {
        let path = self.0.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Lints the copy and returns its only problem.
    fn problem(self) -> Problem {
        let report = lint(&DirProvider::open(self.0.path()).unwrap());
        assert_eq!(report.problems.len(), 1, "{}", show(&report));
        report.problems.into_iter().next().unwrap()
    }
}

fn overlay(name: &str, base: &str, criteria: &str) -> String {
    format!(
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: RecipeMetadata\nmetadata:\n  name: {name}\nspec:\n  base: {base}\n  criteria:\n{criteria}"
    )
}

#[test]
fn misspelt_field_is_reported_with_its_path_and_the_right_name() {
    let p = Broken::new()
        .replace(
            "overlays/eks/eks-training.yaml",
            "valuesFile: components/gpu-operator/values-eks-training.yaml",
            "valueFile: components/gpu-operator/values-eks-training.yaml",
        )
        .problem();
    assert_eq!(p.file, "overlays/eks/eks-training.yaml");
    assert_eq!(p.field, "spec.componentRefs[0].valueFile");
    assert!(p.message.contains("unknown field `valueFile`"), "{p}");
    assert_eq!(p.suggestion.as_deref(), Some("valuesFile"), "{p}");
}

#[test]
fn invalid_criteria_value_suggests_the_closest_value() {
    let p = Broken::new()
        .replace("overlays/eks/eks.yaml", "service: eks", "service: ekss")
        .problem();
    assert_eq!(
        (p.file.as_str(), p.field.as_str()),
        ("overlays/eks/eks.yaml", "spec.criteria.service")
    );
    assert!(p.message.starts_with("invalid service \"ekss\""), "{p}");
    assert_eq!(p.suggestion.as_deref(), Some("eks"));
}

#[test]
fn missing_base_names_the_closest_overlay() {
    let p = Broken::new()
        .replace("overlays/eks/eks-training.yaml", "base: eks", "base: ekz")
        .problem();
    assert_eq!(p.field, "spec.base");
    assert_eq!(p.message, "base overlay \"ekz\" does not exist");
    assert_eq!(p.suggestion.as_deref(), Some("eks"));
}

#[test]
fn inheritance_cycle_is_reported_once() {
    let p = Broken::new()
        .replace(
            "overlays/eks/eks.yaml",
            "spec:\n  criteria:",
            "spec:\n  base: eks-training\n  criteria:",
        )
        .problem();
    assert_eq!(p.file, "overlays/eks/eks.yaml");
    assert_eq!(
        p.message,
        "circular inheritance: eks -> eks-training -> eks"
    );
}

#[test]
fn chain_deeper_than_ten_levels_is_rejected() {
    let mut broken = Broken::new();
    let mut parent = "base".to_string();
    for i in 1..=10 {
        let name = format!("deep-{i}");
        let criteria = format!("    nodes: {i}\n");
        broken = broken.write(
            &format!("overlays/deep/{name}.yaml"),
            &overlay(&name, &parent, &criteria),
        );
        parent = name;
    }
    let p = broken.problem();
    assert_eq!(p.file, "overlays/deep/deep-10.yaml");
    assert!(
        p.message.starts_with(
            "inheritance chain of \"deep-10\" is deeper than 10 levels: base -> deep-1"
        ),
        "{p}"
    );
}

#[test]
fn missing_values_file_suggests_the_existing_one() {
    let p = Broken::new()
        .replace(
            "overlays/eks/eks-training.yaml",
            "components/gpu-operator/values-eks-training.yaml",
            "components/gpu-operator/values-eks-trainign.yaml",
        )
        .problem();
    assert_eq!(p.field, "spec.componentRefs[0].valuesFile");
    assert_eq!(
        p.message,
        "file components/gpu-operator/values-eks-trainign.yaml does not exist in the catalog"
    );
    assert_eq!(
        p.suggestion.as_deref(),
        Some("components/gpu-operator/values-eks-training.yaml")
    );
}

#[test]
fn overlays_with_identical_criteria_are_rejected() {
    let p = Broken::new()
        .write(
            "overlays/eks/eks-copy.yaml",
            &overlay("eks-copy", "eks", "    service: eks\n"),
        )
        .problem();
    // Reported at the later file in path order, naming the other overlay.
    assert_eq!(p.file, "overlays/eks/eks.yaml");
    assert_eq!(p.field, "spec.criteria");
    assert!(
        p.message.starts_with(
            "criteria are identical to those of overlay \"eks-copy\" (overlays/eks/eks-copy.yaml)"
        ),
        "{p}"
    );
}

// NVIDIA/aicr#1783: a typo'd constraint path silently passed upstream.
#[test]
fn issue_1783_constraint_path_typo_is_an_error_with_a_suggestion() {
    let p = Broken::new()
        .replace(
            "overlays/eks/eks.yaml",
            "K8s.server.version",
            "K8s.server.verison",
        )
        .problem();
    assert_eq!(p.field, "spec.constraints[0].name");
    assert!(
        p.message
            .starts_with("unknown key \"verison\" of K8s.server"),
        "{p}"
    );
    assert_eq!(p.suggestion.as_deref(), Some("K8s.server.version"));
    assert!(
        p.to_string()
            .ends_with("(did you mean K8s.server.version?)")
    );
}

#[test]
fn unknown_dependency_ref_names_the_closest_component() {
    let p = Broken::new()
        .replace(
            "overlays/eks/gb200-eks-inference.yaml",
            "        - cert-manager\n",
            "        - cert-manger\n",
        )
        .problem();
    assert_eq!(p.field, "spec.componentRefs[0].dependencyRefs[1]");
    assert_eq!(
        p.message,
        "dependency \"cert-manger\" is not a component in registry.yaml"
    );
    assert_eq!(p.suggestion.as_deref(), Some("cert-manager"));
}

#[test]
fn helm_component_without_chart_version_is_rejected() {
    let p = Broken::new()
        .replace(
            "registry.yaml",
            "components:\n",
            "components:\n  - name: demo-chart\n    helm:\n      defaultRepository: https://example.com/charts\n      defaultChart: demo\n",
        )
        .replace(
            "overlays/eks/eks.yaml",
            "  componentRefs:\n",
            "  componentRefs:\n    - name: demo-chart\n      type: Helm\n",
        )
        .problem();
    assert_eq!(p.file, "overlays/eks/eks.yaml");
    assert_eq!(p.field, "spec.componentRefs[0].version");
    assert!(
        p.message.starts_with(
            "Helm component \"demo-chart\" from https://example.com/charts pins no chart version"
        ),
        "{p}"
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let report = {
        let b = Broken::new()
            .replace(
                "overlays/eks/eks.yaml",
                "K8s.server.version",
                "K8s.server.verison",
            )
            .replace("overlays/eks/eks-training.yaml", "base: eks", "base: ekz")
            .replace(
                "mixins/os-ubuntu.yaml",
                "kind: RecipeMixin",
                "kind: RecipeMixn",
            );
        lint(&DirProvider::open(b.0.path()).unwrap())
    };
    assert_eq!(report.problems.len(), 3, "{}", show(&report));
}

#[test]
fn data_directory_is_linted_together_with_the_embedded_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, text: &str| {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "registry.yaml",
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents:\n  - name: extra\n    helm:\n      defaultRepository: https://example.com\n      defaultVersion: 1.0.0\n",
    );
    write(
        "overlays/extra.yaml",
        &overlay(
            "extra-eks",
            "eks",
            "    service: eks\n    platform: slurn\n  componentRefs:\n    - name: extra\n      dependencyRefs: [gpu-operator]\n",
        ),
    );
    let provider = aicr_core::LayeredProvider::new(dir.path(), Box::new(EmbeddedProvider)).unwrap();
    let report = lint(&provider);
    assert_eq!(report.problems.len(), 1, "{}", show(&report));
    let p = &report.problems[0];
    assert_eq!(
        (p.file.as_str(), p.field.as_str()),
        ("overlays/extra.yaml", "spec.criteria.platform")
    );
    assert_eq!(p.suggestion.as_deref(), Some("slurm"));
    assert_eq!(report.components, 25);
}

#[test]
fn unknown_validation_check_suggests_a_validator() {
    let p = Broken::new()
        .replace(
            "overlays/eks/eks.yaml",
            "        - ai-service-metrics\n",
            "        - ai-service-metric\n",
        )
        .problem();
    assert!(
        p.field.starts_with("spec.validation.conformance.checks["),
        "{p}"
    );
    assert_eq!(
        p.message,
        "check \"ai-service-metric\" is not in the validator catalog"
    );
    assert_eq!(p.suggestion.as_deref(), Some("ai-service-metrics"));
}

#[test]
fn phase_constraint_needs_its_check_in_the_same_phase() {
    let b = Broken::new().replace(
        "overlays/eks/h100-eks-ubuntu-inference-dynamo.yaml",
        "        - inference-perf\n",
        "        - nccl-all-reduce-bw\n",
    );
    let report = lint(&DirProvider::open(b.0.path()).unwrap());
    let messages: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "metric \"inference-throughput\" is reported by check \"inference-perf\", which the performance phase does not list",
            "metric \"inference-ttft-p99\" is reported by check \"inference-perf\", which the performance phase does not list",
        ]
    );
}

#[test]
fn catalog_load_stops_at_the_first_loader_problem_naming_file_and_line() {
    let b = Broken::new().replace(
        "mixins/os-ubuntu.yaml",
        "kind: RecipeMixin",
        "kind: RecipeMixn",
    );
    let provider = DirProvider::open(b.0.path()).unwrap();
    let err = aicr_core::Catalog::load(Box::new(provider)).unwrap_err();
    assert_eq!(err.code(), aicr_core::Code::InvalidRequest);
    let message = err.message();
    assert!(message.contains("mixins/os-ubuntu.yaml:"), "{message}");
    assert!(message.contains("line "), "{message}");
    assert!(
        message.contains(r#"kind is "RecipeMixn", expected "RecipeMixin""#),
        "{message}"
    );
}

#[test]
fn catalog_load_rejects_an_inheritance_cycle() {
    let b = Broken::new().replace(
        "overlays/eks/eks.yaml",
        "spec:\n  criteria:",
        "spec:\n  base: eks-training\n  criteria:",
    );
    let provider = DirProvider::open(b.0.path()).unwrap();
    let err = aicr_core::Catalog::load(Box::new(provider)).unwrap_err();
    assert!(
        err.message()
            .ends_with("eks.yaml: spec.base: circular inheritance: eks -> eks-training -> eks"),
        "{err}"
    );
}
