//! Golden renderings of a few recipes from the embedded catalog, in YAML
//! and JSON. Review changes with `cargo insta review`.

use aicr::Client;
use aicr::Criteria;
use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};
use aicr_core::output::{Format, render};
use aicr_core::yaml::to_value;

fn rendered(criteria: Criteria, format: Format) -> String {
    let recipe = Client::embedded().unwrap().recipe(&criteria).unwrap();
    render(&to_value(&recipe), format)
}

#[test]
fn eks_h100_ubuntu_training_kubeflow_yaml() {
    let criteria = Criteria {
        service: Service::Eks,
        accelerator: Accelerator::H100,
        os: Os::Ubuntu,
        intent: Intent::Training,
        platform: Platform::Kubeflow,
        nodes: 0,
    };
    insta::assert_snapshot!(rendered(criteria, Format::Yaml));
}

#[test]
fn gke_h100_cos_inference_json() {
    let criteria = Criteria {
        service: Service::Gke,
        accelerator: Accelerator::H100,
        os: Os::Cos,
        intent: Intent::Inference,
        ..Criteria::default()
    };
    insta::assert_snapshot!(rendered(criteria, Format::Json));
}

#[test]
fn eks_only_table() {
    let criteria = Criteria {
        service: Service::Eks,
        ..Criteria::default()
    };
    insta::assert_snapshot!(rendered(criteria, Format::Table));
}
