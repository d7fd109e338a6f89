//! `resolve_with` and a snapshot: matching leaves whose constraints fail
//! against the snapshot's readings are left out with their chains, as the
//! reference leaves them out. (The CLI tests pin the whole documents
//! against the reference's answers; these pin the rules.)

use aicr_core::criteria::{Accelerator, Intent, Os, Service};
use aicr_core::recipe::ExclusionReason;
use aicr_core::snapshot::Snapshot;
use aicr_core::{Catalog, Criteria, EmbeddedProvider, resolve, resolve_with};

/// An EKS node on Ubuntu 24.04 with these Kubernetes and kernel versions.
fn snapshot(k8s: &str, kernel: &str) -> Snapshot {
    let text = format!(
        "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements:\n  - type: K8s\n    subtypes:\n      - subtype: server\n        data:\n          version: {k8s}\n  - type: OS\n    subtypes:\n      - subtype: release\n        data:\n          ID: ubuntu\n          VERSION_ID: \"24.04\"\n      - subtype: sysctl\n        data:\n          /proc/sys/kernel/osrelease: {kernel}\n"
    );
    Snapshot::parse(text.as_bytes(), "s.yaml").unwrap()
}

fn training(accelerator: Accelerator) -> Criteria {
    Criteria {
        service: Service::Eks,
        accelerator,
        os: Os::Ubuntu,
        intent: Intent::Training,
        ..Criteria::default()
    }
}

fn catalog() -> Catalog {
    Catalog::load(Box::new(EmbeddedProvider)).unwrap()
}

#[test]
fn a_snapshot_that_meets_every_constraint_changes_nothing() {
    let catalog = catalog();
    let query = training(Accelerator::H100);
    let plain = resolve(&catalog, &query, "v1").unwrap();
    let checked =
        resolve_with(&catalog, &query, "v1", Some(&snapshot("v1.33.5", "6.8.0"))).unwrap();
    assert_eq!(checked, plain);
    assert!(checked.metadata.excluded_overlays.is_empty());
}

#[test]
fn an_excluded_leaf_takes_its_whole_chain_with_it() {
    let catalog = catalog();
    let recipe = resolve_with(
        &catalog,
        &training(Accelerator::H100),
        "v1",
        Some(&snapshot("v1.33.5", "5.15.0")),
    )
    .unwrap();
    assert_eq!(recipe.metadata.applied_overlays, ["base", "monitoring-hpa"]);
    let excluded = &recipe.metadata.excluded_overlays;
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0].name, "h100-eks-ubuntu-training");
    assert_eq!(excluded[0].reason, ExclusionReason::MixinConstraintFailed);
    let warning = &recipe.metadata.constraint_warnings[0];
    assert_eq!(
        (warning.constraint.as_str(), warning.actual.as_str()),
        ("OS.sysctl./proc/sys/kernel/osrelease", "5.15.0")
    );
    // No trace of the EKS chain, and the criteria are still those asked for.
    assert!(!recipe.component_refs.iter().any(|c| c.name == "aws-efa"));
    assert_eq!(recipe.criteria, training(Accelerator::H100));
}

#[test]
fn a_leaf_failing_its_own_constraint_is_not_checked_against_its_mixins() {
    let recipe = resolve_with(
        &catalog(),
        &training(Accelerator::H100),
        "v1",
        Some(&snapshot("v1.31.0", "5.15.0")),
    )
    .unwrap();
    let warnings = &recipe.metadata.constraint_warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].constraint, "K8s.server.version");
    assert_eq!(warnings[0].reason, "expected >= 1.32.4, got v1.31.0");
    assert_eq!(
        recipe.metadata.excluded_overlays[0].reason,
        ExclusionReason::ConstraintFailed
    );
}

/// The reference's Go merge aliases an overlay's validation and writes the
/// excluded chain's phases into it, so its answer here also carries them;
/// ours is the recipe of the surviving leaf alone.
#[test]
fn the_surviving_leaves_merge_as_if_the_excluded_one_never_matched() {
    let catalog = catalog();
    let recipe = resolve_with(
        &catalog,
        &training(Accelerator::Gb200),
        "v1",
        Some(&snapshot("v1.33.5", "6.5.0")),
    )
    .unwrap();
    assert_eq!(
        recipe.metadata.applied_overlays,
        ["base", "monitoring-hpa", "gb200-any-training"]
    );
    let alone = resolve(
        &catalog,
        &Criteria {
            accelerator: Accelerator::Gb200,
            intent: Intent::Training,
            ..Criteria::default()
        },
        "v1",
    )
    .unwrap();
    assert_eq!(
        recipe.metadata.applied_overlays,
        alone.metadata.applied_overlays
    );
    assert_eq!(recipe.component_refs, alone.component_refs);
    assert_eq!(recipe.constraints, alone.constraints);
    assert_eq!(recipe.validation, alone.validation);
    assert_eq!(recipe.deployment_order, alone.deployment_order);
}

#[test]
fn a_generic_query_never_resolves_to_a_specialised_recipe() {
    // The snapshot says eks/h100/ubuntu but nothing about intent: no
    // training or inference leaf may be chosen for it.
    let query = Criteria {
        intent: Intent::Any,
        ..training(Accelerator::H100)
    };
    let recipe = resolve_with(
        &catalog(),
        &query,
        "v1",
        Some(&snapshot("v1.33.5", "6.8.0")),
    )
    .unwrap();
    assert_eq!(
        recipe.metadata.applied_overlays,
        ["base", "monitoring-hpa", "eks"]
    );
}

#[test]
fn an_explanation_says_which_leaves_a_snapshot_left_out() {
    use aicr_core::explain::{Outcome, explain};
    let catalog = catalog();
    let snapshot = snapshot("v1.33.5", "5.15.0");
    let query = training(Accelerator::H100);
    let (recipe, e) = explain(&catalog, &query, "v1", Some(&snapshot)).unwrap();
    assert_eq!(
        recipe,
        resolve_with(&catalog, &query, "v1", Some(&snapshot)).unwrap()
    );
    let outcome = |name: &str| e.overlays.iter().find(|o| o.name == name).unwrap().outcome;
    assert_eq!(outcome("h100-eks-ubuntu-training"), Outcome::Excluded);
    // Its ancestors went with it; the other leaf stays.
    assert_eq!(outcome("eks"), Outcome::Excluded);
    assert_eq!(outcome("monitoring-hpa"), Outcome::Leaf);
    let leaves: Vec<&str> = e.leaves.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(leaves, ["monitoring-hpa"]);
    assert_eq!(e.excluded_overlays, recipe.metadata.excluded_overlays);
    assert!(!e.components.iter().any(|c| c.name == "aws-efa"));
}
