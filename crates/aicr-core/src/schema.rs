//! JSON Schemas of the documents AICR reads and writes, generated from the
//! document types so they cannot drift from what the parsers accept. The
//! committed copies live in `schemas/` (`cargo xtask codegen` rewrites them;
//! a test fails when they are stale); catalog files point editors at them
//! with a `# yaml-language-server: $schema=` line.

use crate::config::AicrConfig;
use crate::model::{
    ComponentRegistry, ExternalManifests, RecipeMetadata, RecipeMixin, ValidatorCatalog,
};
use crate::recipe::RecipeResult;
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};

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
    vec![
        file::<RecipeMetadata>("recipe-metadata.schema.json"),
        file::<RecipeMixin>("recipe-mixin.schema.json"),
        file::<ComponentRegistry>("component-registry.schema.json"),
        file::<ValidatorCatalog>("validator-catalog.schema.json"),
        file::<RecipeResult>("recipe-result.schema.json"),
        file::<AicrConfig>("aicr-config.schema.json"),
        file::<ExternalManifests>("external-manifests.schema.json"),
        file::<crate::snapshot::Snapshot>("snapshot.schema.json"),
        file::<crate::validate::CtrfReport>("validation-report.schema.json"),
        file::<crate::diff::DiffReport>("diff-report.schema.json"),
        file::<crate::explain::Explanation>("recipe-explanation.schema.json"),
    ]
}

/// The schema of `T`; document headers pin `kind` and `apiVersion` with
/// `const` because their types accept nothing else.
fn file<T: JsonSchema>(name: &'static str) -> SchemaFile {
    let settings = SchemaSettings::draft2020_12();
    let schema: Schema = SchemaGenerator::new(settings).into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(schema.as_value()).expect("schemas serialise");
    text.push('\n');
    SchemaFile { name, text }
}
