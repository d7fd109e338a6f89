//! Fuzzes the strict document parsers (overlay, mixin, registry, validator
//! catalog, AICRConfig, values, and the key-to-line map of a values file
//! that explanations read): any input parses or fails with a typed error;
//! none panics.
#![no_main]

use aicr_core::config::AicrConfig;
use aicr_core::model::{ComponentRegistry, RecipeMetadata, RecipeMixin, ValidatorCatalog, Values};
use aicr_core::yaml::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::<RecipeMetadata>(data, "fuzz");
    let _ = parse::<RecipeMixin>(data, "fuzz");
    let _ = parse::<ComponentRegistry>(data, "fuzz");
    let _ = parse::<ValidatorCatalog>(data, "fuzz");
    let _ = parse::<Values>(data, "fuzz");
    let _ = aicr_core::explain::value_lines(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = AicrConfig::parse(text, "fuzz", false);
        let _ = AicrConfig::parse(text, "fuzz", true);
    }
});
