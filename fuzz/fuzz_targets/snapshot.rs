//! Fuzzes the Snapshot reader and what consumes a snapshot: any input
//! parses or fails with a typed error. Oracles: a snapshot that parses
//! reads back equal from its own YAML and JSON, compares with itself
//! as no drift, and yields a fingerprint and readiness report without a
//! panic.
#![no_main]

use aicr_core::diff::diff;
use aicr_core::fingerprint::Fingerprint;
use aicr_core::output::Format;
use aicr_core::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(snapshot) = Snapshot::parse(data, "fuzz.yaml") else {
        return;
    };
    for format in [Format::Yaml, Format::Json] {
        let text = format.render(&snapshot);
        let back = Snapshot::parse(text.as_bytes(), "again.yaml")
            .unwrap_or_else(|e| panic!("{format:?} output does not read back: {e}\n{text}"));
        // NaN readings are not equal to themselves; compare their text.
        assert_eq!(
            format!("{back:?}"),
            format!("{snapshot:?}"),
            "{format:?} round trip changed the snapshot"
        );
    }
    assert!(!diff(&snapshot, &snapshot, "a", "b").has_drift());
    let _ = Fingerprint::from_snapshot(&snapshot).criteria();
    for m in &snapshot.measurements {
        for s in &m.subtypes {
            for key in s.data.keys() {
                let path = format!("{}.{}.{key}", m.kind, s.name);
                if !s.name.contains('.') {
                    let _ = snapshot.reading(&path);
                }
            }
        }
    }
});
