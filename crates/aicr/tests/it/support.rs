//! What the facade's tests add to `aicr-test-support`: reference queries
//! as our criteria.

use aicr::Criteria;
use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};
use aicr_test_support::ReferenceQuery;

/// The criteria the reference CLI was given (`any` = flag omitted).
pub fn criteria(q: &ReferenceQuery) -> Criteria {
    let [s, a, o, i, p] = &q.flags;
    Criteria {
        service: Service::parse(s).unwrap(),
        accelerator: Accelerator::parse(a).unwrap(),
        os: Os::parse(o).unwrap(),
        intent: Intent::parse(i).unwrap(),
        platform: Platform::parse(p).unwrap(),
        nodes: 0,
    }
}
