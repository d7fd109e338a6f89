//! Fuzzes the parsers of the OS collector's text sources (`/proc/cmdline`,
//! `os-release`, `/proc/modules`): no input panics, and each keeps its
//! rules: `grub` never holds `root`, `release` has no empty value, `kmod`
//! reads every module as `true`, and no key is empty or padded.
#![no_main]

use aicr_collect::os::{grub_subtype, kmod_subtype, release_subtype};
use aicr_core::snapshot::Reading;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let grub = grub_subtype(text);
    assert!(!grub.data.contains_key("root"));
    let release = release_subtype(text);
    assert!(release.data.values().all(|v| v.to_string() != ""));
    let kmod = kmod_subtype(text);
    assert!(kmod.data.values().all(|v| *v == Reading::Bool(true)));
    for key in release.data.keys().chain(kmod.data.keys()) {
        assert_eq!(key.trim(), key, "padded key {key:?}");
    }
    assert!(kmod.data.keys().all(|k| !k.is_empty()));
});
