//! Fuzzes the Go template subset: any input either renders or fails with
//! an error; it never panics, loops forever or exhausts the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else {
        return;
    };
    let values = json!({
        "Values": {
            "c": {"list": [1, "two", {"k": null}], "map": {"a": true, "b": 1.5}, "s": "x: y"}
        },
        "Release": {"Namespace": "ns", "Service": "Helm"},
        "Chart": {"Name": "chart", "Version": "1.0.0"},
    });
    let _ = aicr_bundle::gotmpl::render(template, &values);
});
