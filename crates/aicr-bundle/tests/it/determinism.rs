//! Same inputs, same bytes.

use aicr_bundle::Deployer;

use crate::support::{case, options};

#[test]
fn two_runs_give_byte_identical_trees_for_every_deployer() {
    let Some((catalog, recipe)) = case("eks-gb200-ubuntu-inference-dynamo-helm") else {
        return;
    };
    for deployer in [
        Deployer::Helm,
        Deployer::Helmfile,
        Deployer::Argocd,
        Deployer::ArgocdHelm,
    ] {
        let a = aicr_bundle::bundle(&catalog, &recipe, &options(deployer), &Default::default())
            .unwrap();
        let b = aicr_bundle::bundle(&catalog, &recipe, &options(deployer), &Default::default())
            .unwrap();
        assert_eq!(a, b, "{deployer:?}");

        let (x, y) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        aicr_bundle::write_tree(&a, &x.path().join("b"), false).unwrap();
        aicr_bundle::write_tree(&b, &y.path().join("b"), false).unwrap();
        for (path, file) in a.iter() {
            let on_disk = std::fs::read(x.path().join("b").join(path)).unwrap();
            assert_eq!(on_disk, file.bytes, "{path}");
            assert_eq!(
                on_disk,
                std::fs::read(y.path().join("b").join(path)).unwrap()
            );
        }
    }
}

#[test]
fn recipe_yaml_carries_no_flag_derived_values() {
    let Some((catalog, recipe)) = case("eks-gb200-ubuntu-inference-dynamo-helm") else {
        return;
    };
    let mut opts = options(Deployer::Helm);
    opts.storage_class = Some("class-from-a-flag".into());
    let tree = aicr_bundle::bundle(&catalog, &recipe, &opts, &Default::default()).unwrap();
    let text = String::from_utf8_lossy(&tree.get("recipe.yaml").unwrap().bytes).into_owned();
    assert!(!text.contains("class-from-a-flag"), "recipe.yaml: {text}");
    let values_carry_it = tree.iter().any(|(p, f)| {
        p.ends_with("values.yaml")
            && String::from_utf8_lossy(&f.bytes).contains("class-from-a-flag")
    });
    assert!(
        values_carry_it,
        "the storage class still reaches the values"
    );
}
