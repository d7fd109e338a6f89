//! The OpenAPI 3.1 description of `aicrd`, built from the same constants
//! the handlers use (routes, parameters, limits) and the JSON Schemas the
//! facade generates from its document types. Served at
//! `GET /v1/openapi.json`; the committed copy (`schemas/aicrd.openapi.json`)
//! is rewritten by `cargo xtask codegen` and drift-checked by `--check`.

use serde_json::{Map, Value, json};

use crate::handlers::{BUNDLE_BODY_LIMIT, CRITERIA_BODY_LIMIT, LIST_PARAMS};

/// The document as served and committed: pretty JSON, trailing newline.
pub fn text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("the document serialises");
    text.push('\n');
    text
}

fn document() -> Value {
    let mut schemas = Map::new();
    for (name, schema) in aicr::api_schemas() {
        hoist(name, schema, &mut schemas);
    }
    schemas.insert("Error".into(), error_schema());
    schemas.insert(
        "RecipeCriteria".into(),
        json!({
            "type": "object",
            "description": "Criteria for POST /v1/recipe; kind and apiVersion may be left out.",
            "additionalProperties": false,
            "required": ["spec"],
            "properties": {
                "kind": {"const": "RecipeCriteria"},
                "apiVersion": {"const": "aicr.nvidia.com/v1alpha1"},
                "metadata": {"type": "object", "additionalProperties": false,
                             "properties": {"name": {"type": "string"}}},
                "spec": {"$ref": "#/components/schemas/CriteriaSpec"}
            }
        }),
    );
    schemas.insert(
        "QueryRequest".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["criteria"],
            "properties": {
                "criteria": {"$ref": "#/components/schemas/CriteriaSpec"},
                "selector": {"type": "string", "description": "Dot path into the hydrated recipe; empty or `.` for all."}
            }
        }),
    );

    let errors = |codes: &[u16]| -> Value {
        let mut out = Map::new();
        for code in codes {
            out.insert(
                code.to_string(),
                json!({"$ref": format!("#/components/responses/E{code}")}),
            );
        }
        Value::Object(out)
    };
    let recipe_ok = json!({"description": "The resolved recipe.",
        "headers": {"Cache-Control": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecipeResult"}}}});
    let query_ok = json!({"description": "The selected value, as bare JSON.",
        "content": {"application/json": {"schema": {}}}});
    let mut recipe_get_responses = errors(&[400, 429, 500, 504]);
    recipe_get_responses["200"] = recipe_ok.clone();
    let mut recipe_post_responses = errors(&[400, 413, 429, 500, 504]);
    recipe_post_responses["200"] = recipe_ok;
    let mut query_get_responses = errors(&[400, 404, 429, 500, 504]);
    query_get_responses["200"] = query_ok.clone();
    let mut query_post_responses = errors(&[400, 404, 413, 429, 500, 504]);
    query_post_responses["200"] = query_ok;
    let mut bundle_responses = errors(&[400, 413, 429, 500, 503, 504]);
    bundle_responses["200"] = json!({"description": "The bundle `aicr bundle` would write, as a zip archive.",
        "headers": {
            "X-Bundle-Files": {"schema": {"type": "integer"}},
            "X-Bundle-Size": {"schema": {"type": "integer"}},
            "Content-Disposition": {"schema": {"type": "string"}}
        },
        "content": {"application/zip": {"schema": {"type": "string", "contentMediaType": "application/zip"}}}});

    let criteria_params = criteria_parameters();
    let mut query_params = criteria_params.clone();
    query_params.push(json!({"name": "selector", "in": "query", "required": false,
        "schema": {"type": "string"}, "description": "Dot path; empty for the whole hydrated recipe."}));
    let body = |schema: &str, limit: usize| {
        json!({"required": true, "description": format!("At most {limit} bytes."),
        "content": {
            "application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}},
            "application/yaml": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}
        }})
    };

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "aicrd",
            "version": aicr::VERSION,
            "description": "AI Cluster Runtime as a REST API: recipes, queries and bundles from the embedded catalog.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "paths": {
            "/v1/recipe": {
                "get": {"operationId": "getRecipe", "summary": "Resolve a recipe from query parameters",
                        "parameters": criteria_params, "responses": recipe_get_responses},
                "post": {"operationId": "postRecipe", "summary": "Resolve a recipe from a RecipeCriteria document",
                         "requestBody": body("RecipeCriteria", CRITERIA_BODY_LIMIT), "responses": recipe_post_responses}
            },
            "/v1/query": {
                "get": {"operationId": "getQuery", "summary": "One value of the hydrated recipe",
                        "parameters": query_params, "responses": query_get_responses},
                "post": {"operationId": "postQuery", "summary": "One value of the hydrated recipe",
                         "requestBody": body("QueryRequest", CRITERIA_BODY_LIMIT), "responses": query_post_responses}
            },
            "/v1/bundle": {
                "post": {"operationId": "postBundle", "summary": "Render a bundle of a recipe",
                         "parameters": bundle_parameters(&schemas),
                         "requestBody": {"required": true,
                             "description": format!("A RecipeResult, at most {BUNDLE_BODY_LIMIT} bytes."),
                             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecipeResult"}}}},
                         "responses": bundle_responses}
            },
            "/v1/openapi.json": {
                "get": {"operationId": "getOpenApi", "summary": "This document",
                        "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            },
            "/": {
                "get": {"operationId": "getRoutes", "summary": "Service name, version and routes",
                        "responses": {"200": {"description": "Routes", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            },
            "/health": {
                "get": {"operationId": "getHealth", "summary": "Liveness",
                        "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            },
            "/ready": {
                "get": {"operationId": "getReady", "summary": "Readiness",
                        "responses": {
                            "200": {"description": "Serving", "content": {"application/json": {"schema": {"type": "object"}}}},
                            "503": {"description": "Starting or draining", "content": {"application/json": {"schema": {"type": "object"}}}}
                        }}
            },
            "/metrics": {
                "get": {"operationId": "getMetrics", "summary": "Prometheus metrics",
                        "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}
            }
        },
        "components": {
            "schemas": schemas,
            "responses": error_responses()
        }
    })
}

/// Moves `schema`'s `$defs` into `components/schemas` beside it and points
/// every `#/$defs/X` at `#/components/schemas/X` (inside an OpenAPI
/// document, `#` is the document, not the schema).
fn hoist(name: &str, mut schema: Value, schemas: &mut Map<String, Value>) {
    let defs = schema
        .as_object_mut()
        .and_then(|o| {
            o.remove("$schema");
            o.remove("$defs")
        })
        .unwrap_or_default();
    let name = if name == "Criteria" {
        "CriteriaSpec"
    } else {
        name
    };
    let mut add = |key: String, mut value: Value| {
        retarget(&mut value);
        if let Some(existing) = schemas.get(&key) {
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

fn criteria_parameters() -> Vec<Value> {
    let param = |name: &str, schema: Value, description: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description});
    vec![
        param(
            "service",
            json!({"type": "string"}),
            "A Service (see the schema of that name) or an alias",
        ),
        param(
            "accelerator",
            json!({"type": "string"}),
            "An Accelerator (see the schema of that name) or an alias",
        ),
        param(
            "gpu",
            json!({"type": "string"}),
            "Alias of accelerator, used when accelerator is not given",
        ),
        param(
            "intent",
            json!({"type": "string"}),
            "An Intent (see the schema of that name)",
        ),
        param(
            "os",
            json!({"type": "string"}),
            "An Os (see the schema of that name)",
        ),
        param(
            "platform",
            json!({"type": "string"}),
            "A Platform (see the schema of that name)",
        ),
        param(
            "nodes",
            json!({"type": "integer", "minimum": 0}),
            "GPU node count; 0 means any",
        ),
    ]
}

/// One query parameter per `BundleRequest` field, from its schema.
fn bundle_parameters(schemas: &Map<String, Value>) -> Vec<Value> {
    let properties = schemas["BundleRequest"]["properties"]
        .as_object()
        .expect("BundleRequest has properties");
    properties
        .iter()
        .map(|(name, schema)| {
            let description = schema.get("description").cloned().unwrap_or(Value::Null);
            let mut param_schema = schema.clone();
            if let Some(o) = param_schema.as_object_mut() {
                o.remove("description");
                o.remove("default");
            }
            let mut param =
                json!({"name": name, "in": "query", "required": false, "schema": param_schema});
            if !description.is_null() {
                param["description"] = description;
            }
            if LIST_PARAMS.contains(&name.as_str()) {
                param["explode"] = Value::Bool(true);
                param["style"] = Value::String("form".into());
            }
            param
        })
        .collect()
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message", "requestId", "timestamp", "retryable"],
        "properties": {
            "code": {"enum": ["INVALID_REQUEST", "METHOD_NOT_ALLOWED", "CONFLICT", "NOT_FOUND", "UNAUTHORIZED",
                              "TIMEOUT", "SERVICE_UNAVAILABLE", "RATE_LIMIT_EXCEEDED", "INTERNAL"]},
            "message": {"type": "string"},
            "details": {"type": "object"},
            "requestId": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "retryable": {"type": "boolean"}
        }
    })
}

fn error_responses() -> Value {
    let mut out = Map::new();
    for (code, what) in [
        (400, "Invalid request"),
        (404, "Not found"),
        (413, "Request body too large"),
        (429, "Rate limit exceeded"),
        (500, "Internal error"),
        (503, "A download the bundle needs failed"),
        (504, "Request timed out"),
    ] {
        out.insert(
            format!("E{code}"),
            json!({"description": what,
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` points at something the document defines.
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
    }

    #[test]
    fn the_document_is_the_same_every_time() {
        assert_eq!(text(), text());
    }
}
