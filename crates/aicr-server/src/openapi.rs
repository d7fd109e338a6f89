//! The OpenAPI 3.1 description of `aicrd`, served at `GET /v1/openapi.json`
//! and committed as `schemas/aicrd.openapi.json` (rewritten by `cargo xtask
//! codegen`, drift-checked by `--check`).
//!
//! utoipa generates it: the operations from the `#[utoipa::path]` attribute
//! on each handler, the schemas of the server's own types from their
//! derives. The facade's document types (`RecipeResult`, the criteria,
//! `BundleRequest`) keep the JSON Schemas schemars generates for them
//! (`aicr::api_schemas`, also behind `schemas/*.json`): operations name them
//! through the marker types below, and [`text`] merges them into
//! `components/schemas` as JSON. They are JSON Schema 2020-12, which
//! OpenAPI 3.1 embeds as is; parsing them into utoipa's schema model would
//! drop keywords that model lacks.

use serde_json::{Map, Value, json};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, OpenApi, PartialSchema, ToResponse, ToSchema};

use crate::error::ErrorBody;
use crate::handlers::{self, LIST_PARAMS};

/// What utoipa generates: the operations of the handlers named here, the
/// server's own schemas and the shared error responses. `ErrorBody` is
/// listed because the error responses refer to it by name only.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "aicrd",
        version = aicr::VERSION,
        description = "AI Cluster Runtime as a REST API: recipes, queries and bundles from the embedded catalog.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        handlers::recipe_get,
        handlers::recipe_post,
        handlers::query_get,
        handlers::query_post,
        handlers::bundle,
        handlers::openapi,
        handlers::root,
        handlers::health,
        handlers::ready,
        handlers::metrics,
    ),
    components(
        schemas(ErrorBody),
        responses(BadRequest, NotFound, TooLarge, RateLimited, Internal, Unavailable, TimedOut),
    ),
    tags(
        (name = "recipes", description = "Recipes and values of recipes, resolved from criteria"),
        (name = "bundles", description = "Deployment bundles of recipes"),
        (name = "service", description = "Probes, metrics and this document"),
    )
)]
struct Api;

/// The document as served and committed: pretty JSON, trailing newline.
pub fn text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("the document serialises");
    text.push('\n');
    text
}

/// utoipa's document with the facade's schemas merged in.
fn document() -> Value {
    let mut doc = serde_json::to_value(Api::openapi()).expect("the document serialises");
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("utoipa writes components/schemas");
    for (name, schema) in aicr::api_schemas() {
        hoist(name, schema, schemas);
    }
    doc
}

/// Moves `schema`'s `$defs` into `components/schemas` beside it and points
/// every `#/$defs/X` at `#/components/schemas/X` (inside an OpenAPI
/// document, `#` is the document, not the schema). A marker's placeholder
/// is replaced; any other schema of the same name must be equal.
fn hoist(name: &str, mut schema: Value, schemas: &mut Map<String, Value>) {
    let defs = schema
        .as_object_mut()
        .and_then(|o| {
            o.remove("$schema");
            o.remove("$defs")
        })
        .unwrap_or_default();
    // `Criteria` is also the name of the criteria inside a RecipeResult.
    let name = if name == "Criteria" {
        "CriteriaSpec"
    } else {
        name
    };
    let mut add = |key: String, mut value: Value| {
        retarget(&mut value);
        if let Some(existing) = schemas.get(&key)
            && *existing != placeholder(&key)
        {
            assert_eq!(existing, &value, "two schemas named {key} differ");
        }
        schemas.insert(key, value);
    };
    if let Value::Object(defs) = defs {
        for (key, value) in defs {
            add(key, value);
        }
    }
    add(name.to_string(), schema);
}

fn retarget(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(rest) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{rest}");
            }
            map.values_mut().for_each(retarget);
        }
        Value::Array(items) => items.iter_mut().for_each(retarget),
        _ => {}
    }
}

/// What a marker puts in `components/schemas` until [`hoist`] replaces it.
fn placeholder(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

// Markers of schemas the facade generates. utoipa refers to a marker by
// `$ref` to its name and files the marker's own schema (a reference to
// itself) under that name, which `hoist` then replaces.

/// A resolved recipe (`aicr::RecipeResult`).
pub enum RecipeResult {}

impl PartialSchema for RecipeResult {
    fn schema() -> RefOr<Schema> {
        Ref::from_schema_name("RecipeResult").into()
    }
}

impl ToSchema for RecipeResult {}

/// The criteria of a request (`spec` of a RecipeCriteria document).
pub enum CriteriaSpec {}

impl PartialSchema for CriteriaSpec {
    fn schema() -> RefOr<Schema> {
        Ref::from_schema_name("CriteriaSpec").into()
    }
}

impl ToSchema for CriteriaSpec {}

/// The body of `POST /v1/recipe`, as `aicr::criteria_document` reads it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(description = "Criteria for POST /v1/recipe; kind and apiVersion may be left out.")]
#[allow(dead_code)] // describes a document the facade parses; never built
pub struct RecipeCriteria {
    #[serde(default)]
    #[schema(schema_with = kind)]
    kind: String,
    #[serde(default)]
    #[schema(schema_with = api_version)]
    api_version: String,
    #[serde(default)]
    #[schema(inline)]
    metadata: Metadata,
    spec: CriteriaSpec,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // part of RecipeCriteria
struct Metadata {
    #[serde(default)]
    name: String,
}

/// The body of `POST /v1/query`, as `aicr::query_document` reads it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Criteria and a selector for POST /v1/query.")]
#[allow(dead_code)] // describes a document the facade parses; never built
pub struct QueryRequest {
    criteria: CriteriaSpec,
    /// Dot path into the hydrated recipe; empty or `.` for all.
    #[serde(default)]
    selector: String,
}

fn kind() -> Object {
    constant("RecipeCriteria")
}

fn api_version() -> Object {
    constant("aicr.nvidia.com/v1alpha1")
}

/// A string that must be `value`.
fn constant(value: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
        .build()
}

/// A zip archive (the body of a bundle).
pub enum ZipArchive {}

impl PartialSchema for ZipArchive {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/zip")
            .into()
    }
}

/// Inlined where used (utoipa asks for `ToSchema` even then).
impl ToSchema for ZipArchive {}

/// The query parameters of `POST /v1/bundle`: one per field of
/// `aicr::BundleRequest`, from its schema, so that a new bundle option is
/// documented as soon as the facade has it.
pub enum BundleParams {}

impl IntoParams for BundleParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let (_, schema) = aicr::api_schemas()
            .into_iter()
            .find(|(name, _)| *name == "BundleRequest")
            .expect("the facade describes BundleRequest");
        let Some(Value::Object(properties)) = schema.get("properties").cloned() else {
            panic!("BundleRequest has properties");
        };
        properties
            .into_iter()
            .map(|(name, mut schema)| {
                let description = schema.get("description").cloned();
                if let Some(o) = schema.as_object_mut() {
                    o.remove("description");
                    o.remove("default");
                }
                let mut param =
                    json!({"name": name, "in": "query", "required": false, "schema": schema});
                if let Some(description) = description {
                    param["description"] = description;
                }
                if LIST_PARAMS.contains(&name.as_str()) {
                    param["style"] = json!("form");
                    param["explode"] = json!(true);
                }
                serde_json::from_value(param).expect("a parameter of BundleRequest")
            })
            .collect()
    }
}

/// An error response: the description, the typed body by reference.
fn failure(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(ErrorBody::name()))),
        )
        .into()
}

/// The error responses, each defined once in `components/responses` and
/// referenced by the operations that answer it.
macro_rules! failures {
    ($($name:ident: $description:literal),* $(,)?) => {$(
        #[doc = $description]
        pub enum $name {}
        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), failure($description))
            }
        }
    )*};
}

failures! {
    BadRequest: "Invalid request",
    NotFound: "Not found",
    TooLarge: "Request body too large",
    RateLimited: "Rate limit exceeded",
    Internal: "Internal error",
    Unavailable: "A download the bundle needs failed",
    TimedOut: "Request timed out",
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` points at something the document defines, and no
    /// marker's placeholder is left.
    #[test]
    fn every_reference_resolves() {
        let doc = document();
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|x| refs(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 20);
        for r in all {
            let pointer = r.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            assert_ne!(schema, &placeholder(name), "{name} is only a placeholder");
        }
    }

    #[test]
    fn the_document_is_the_same_every_time() {
        assert_eq!(text(), text());
    }
}
