//! JSON Schemas (2020-12) of the documents the API takes and gives, for
//! `aicrd`'s OpenAPI document: generated from the same types the parsers
//! use, so the API description cannot drift from what is accepted.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

use aicr_core::config::CriteriaConfig;

/// `(name, schema)` of each API document, in a fixed order. Each schema
/// keeps its definitions under its own `$defs`.
pub fn api_schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("RecipeResult", schema_of::<aicr_core::RecipeResult>()),
        ("Criteria", schema_of::<CriteriaConfig>()),
        ("BundleRequest", schema_of::<crate::BundleRequest>()),
    ]
}

fn schema_of<T: JsonSchema>() -> Value {
    SchemaGenerator::new(SchemaSettings::draft2020_12())
        .into_root_schema_for::<T>()
        .to_value()
}
