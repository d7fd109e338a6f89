//! Fuzzes the `--set component:path=value` grammar and its application to
//! values.
#![no_main]

use aicr_core::model::Values;
use aicr_core::values::SetOverride;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = SetOverride::parse(text) {
        let mut values = Values::new();
        set.apply(&mut values);
        set.apply(&mut values);
    }
});
