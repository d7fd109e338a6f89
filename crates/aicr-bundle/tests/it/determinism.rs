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
