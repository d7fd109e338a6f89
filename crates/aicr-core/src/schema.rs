//! JSON Schemas of the documents AICR reads and writes, generated from the
//! document types so they cannot drift from what the parsers accept. The
//! committed copies live in `schemas/` (`cargo xtask codegen` rewrites them;
//! a test fails when they are stale); catalog files point editors at them
//! with a `# yaml-language-server: $schema=` line.

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};
use serde_json::Value;

use crate::config::AicrConfig;
use crate::model::{
    API_VERSION, ComponentRegistry, ExternalManifests, RecipeMetadata, RecipeMixin,
    ValidatorCatalog,
};
use crate::recipe::RecipeResult;

/// One generated schema: its file name under `schemas/` and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// File name, e.g. `recipe-metadata.schema.json`.
    pub name: &'static str,
    /// Pretty JSON with a trailing newline.
    pub text: String,
}

/// Every schema, in a fixed order.
pub fn all() -> Vec<SchemaFile> {
    const VALIDATOR_API: &str = "validator.nvidia.com/v1alpha1";
    vec![
        file::<RecipeMetadata>(
            "recipe-metadata.schema.json",
            Some(("RecipeMetadata", API_VERSION)),
        ),
        file::<RecipeMixin>(
            "recipe-mixin.schema.json",
            Some(("RecipeMixin", API_VERSION)),
        ),
        file::<ComponentRegistry>(
            "component-registry.schema.json",
            Some(("ComponentRegistry", API_VERSION)),
        ),
        file::<ValidatorCatalog>(
            "validator-catalog.schema.json",
            Some(("ValidatorCatalog", VALIDATOR_API)),
        ),
        file::<RecipeResult>(
            "recipe-result.schema.json",
            Some(("RecipeResult", API_VERSION)),
        ),
        file::<AicrConfig>("aicr-config.schema.json", None),
        file::<ExternalManifests>(
            "external-manifests.schema.json",
            Some(("ExternalManifests", API_VERSION)),
        ),
    ]
}

/// The schema of `T`; `header` pins `kind` and `apiVersion` to constants,
/// which the Rust types hold as plain strings checked after parsing.
fn file<T: JsonSchema>(name: &'static str, header: Option<(&str, &str)>) -> SchemaFile {
    let settings = SchemaSettings::draft2020_12();
    let mut schema: Schema = SchemaGenerator::new(settings).into_root_schema_for::<T>();
    if let Some((kind, api)) = header
        && let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut)
    {
        for (key, value) in [("kind", kind), ("apiVersion", api)] {
            if let Some(Value::Object(prop)) = props.get_mut(key) {
                prop.insert("const".into(), Value::String(value.into()));
            }
        }
    }
    let mut text = serde_json::to_string_pretty(schema.as_value()).expect("schemas serialise");
    text.push('\n');
    SchemaFile { name, text }
}
