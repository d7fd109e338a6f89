use super::*;
use crate::criteria::{Accelerator, Intent, Os, Service};

#[test]
fn mismatches_spell_out_the_asymmetric_rule() {
    let overlay = Criteria {
        service: Service::Eks,
        os: Os::Ubuntu,
        nodes: 4,
        ..Criteria::default()
    };
    let query = Criteria {
        service: Service::Gke,
        accelerator: Accelerator::H100,
        intent: Intent::Training,
        ..Criteria::default()
    };
    let reasons: Vec<String> = mismatches(&overlay, &query)
        .into_iter()
        .map(|m| m.reason)
        .collect();
    assert_eq!(
        reasons,
        [
            "overlay says service=eks, query says service=gke",
            "overlay says os=ubuntu, query leaves os open",
            "overlay says nodes=4, query leaves nodes open",
        ]
    );
    // An overlay wildcard matches whatever the query says.
    assert!(mismatches(&Criteria::default(), &query).is_empty());
}

#[test]
fn mismatches_agree_with_matches() {
    let services = [Service::Any, Service::Eks, Service::Gke];
    let oses = [Os::Any, Os::Ubuntu];
    let nodes = [0, 4, 8];
    let mut all = Vec::new();
    for service in services {
        for os in oses {
            for nodes in nodes {
                all.push(Criteria {
                    service,
                    os,
                    nodes,
                    ..Criteria::default()
                });
            }
        }
    }
    for overlay in &all {
        for query in &all {
            assert_eq!(
                overlay.matches(query),
                mismatches(overlay, query).is_empty(),
                "{overlay:?} vs {query:?}"
            );
        }
    }
}
