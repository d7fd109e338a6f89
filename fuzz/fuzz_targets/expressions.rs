//! Fuzzes criteria values, versions and constraint expressions: parsing
//! and evaluating never panic.
#![no_main]

use aicr_core::criteria::{Accelerator, Os, Service};
use aicr_core::version::{Expression, Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Service::parse_flag(text);
    let _ = Accelerator::parse(text);
    let _ = Os::parse(text);
    let _ = Version::parse(text);
    let (expr, actual) = text.split_once('|').unwrap_or((text, "1.30.0"));
    if let Ok(e) = Expression::parse(expr) {
        let _ = e.evaluate(actual);
    }
});
