//! The tools: each is a facade request type (its schema is the tool's
//! input schema) and one facade call. All are read-only and offline.

use aicr::{
    CatalogSource, Client, Criteria, CriteriaFlags, Error, ExplainRequest, Format,
    InlineDiffRequest, InlineValidateRequest, NoArguments, QueryRequest, RecipeResult,
    RenderRequest, Result, to_value,
};
use rmcp::model::{Tool, ToolAnnotations};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// What a tool gives back: the text an assistant reads and the same
/// result as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The result as the CLI prints it for the same request (JSON for
    /// documents, the report for `lint_catalog`).
    pub text: String,
    /// The result as a JSON object.
    pub structured: Value,
}

/// Every tool, in a fixed order.
pub fn list() -> Vec<Tool> {
    vec![
        tool::<NoArguments>(
            "list_criteria",
            "List the allowed values of each recipe criterion (service, accelerator, os, intent, platform). `any` or leaving a criterion out matches every value.",
        ),
        tool::<CriteriaFlags>(
            "resolve_recipe",
            "Resolve the recipe (components, versions, values, deployment order, constraints) that aicr would deploy for an environment; the same document as `aicr recipe -t json`. metadata.appliedOverlays says which catalog overlays were merged and why the recipe is what it is.",
        ),
        tool::<QueryRequest>(
            "query_recipe",
            "Select part of the hydrated recipe (component values fully merged) for an environment by a dot path, as `aicr query -t json` does, e.g. `components.gpu-operator.values.driver`.",
        ),
        tool::<ExplainRequest>(
            "explain_recipe",
            "Explain why the recipe for an environment is what it is, as `aicr query --explain -t json` does: every catalog overlay and whether it matched (with the criterion that failed), the leaves merged with their base chains and mixins, and for each component field, constraint and value every document that set it in order (values file and line, overlay, mixin, registry default; the last one wins) and the values a null deleted. Narrow it with selector, e.g. `components.gpu-operator.values.driver.version` or `components.gpu-operator.version`.",
        ),
        tool::<RenderRequest>(
            "render_bundle",
            "Render the deployment bundle of a recipe in memory (never written to disk): every file with its size and SHA-256, and the contents of the files named in `files`. The recipe is resolved from `criteria` or given as text in `recipe`.",
        ),
        tool::<NoArguments>(
            "lint_catalog",
            "Lint the recipe catalog this server uses and report every problem, as `aicr recipe lint` does.",
        ),
        tool::<InlineValidateRequest>(
            "validate_recipe",
            "Check a recipe's readiness constraints against a snapshot, both passed as YAML or JSON text; returns the CTRF report `aicr validate` writes. No cluster is contacted.",
        ),
        tool::<InlineDiffRequest>(
            "diff_snapshots",
            "Show what changed between two snapshots passed as YAML or JSON text, as `aicr diff -t json` does.",
        ),
    ]
}

fn tool<T: schemars::JsonSchema + 'static>(name: &'static str, description: &'static str) -> Tool {
    Tool::new(name, description, rmcp::model::JsonObject::new())
        .with_input_schema::<T>()
        .with_annotations(
            ToolAnnotations::new()
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        )
}

/// Which criteria recipes may be resolved for (aicrd's allowlists); an
/// error refuses the call.
pub type Policy = dyn Fn(&Criteria) -> Result<()> + Send + Sync;

/// What a tool call works with.
pub struct Context<'a> {
    /// The facade.
    pub client: &'a Client,
    /// The catalog `client` was opened on.
    pub catalog: &'a CatalogSource,
    /// The criteria allowed, checked on every recipe a tool resolves.
    pub policy: &'a Policy,
}

impl Context<'_> {
    /// A recipe from criteria or text, refused when the policy refuses
    /// its criteria.
    fn recipe(&self, criteria: Option<&CriteriaFlags>, text: Option<&str>) -> Result<RecipeResult> {
        let recipe = self.client.inline_recipe(criteria, text)?;
        (self.policy)(&recipe.criteria)?;
        Ok(recipe)
    }
}

/// Runs tool `name` on `arguments`; `None` for a tool that does not exist.
pub fn call(cx: &Context<'_>, name: &str, arguments: Value) -> Option<Result<Output>> {
    let client = cx.client;
    Some(match name {
        "list_criteria" => parse(arguments).map(|NoArguments {}| {
            let values = to_value(&aicr::criteria_values());
            document(values)
        }),
        "resolve_recipe" => parse(arguments).and_then(|criteria: CriteriaFlags| {
            let recipe = cx.recipe(Some(&criteria), None)?;
            Ok(Output {
                text: Format::Json.render(&recipe),
                structured: to_value(&recipe),
            })
        }),
        "query_recipe" => parse(arguments).and_then(|request: QueryRequest| {
            let recipe = cx.recipe(Some(&request.criteria), None)?;
            let value = client.query_recipe(&recipe, &request.selector)?;
            Ok(Output {
                text: Format::Json.render_selected(&value),
                structured: json!({"selector": request.selector, "value": value}),
            })
        }),
        "explain_recipe" => parse(arguments).and_then(|request: ExplainRequest| {
            (cx.policy)(&request.criteria.criteria()?)?;
            let value = client.explain_inline(&request)?;
            Ok(Output {
                text: Format::Json.render_selected(&value),
                structured: value,
            })
        }),
        "render_bundle" => parse(arguments).and_then(|request: RenderRequest| {
            let recipe = cx.recipe(request.criteria.as_ref(), request.recipe.as_deref())?;
            Ok(document(to_value(
                &client.render_inline(&recipe, &request)?,
            )))
        }),
        "lint_catalog" => parse(arguments).and_then(|NoArguments {}| {
            let report = cx.catalog.lint()?;
            let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
            Ok(Output {
                text: report.to_string(),
                structured: json!({
                    "ok": report.is_ok(),
                    "problems": problems,
                    "overlays": report.overlays,
                    "mixins": report.mixins,
                    "components": report.components,
                }),
            })
        }),
        "validate_recipe" => parse(arguments).and_then(|request: InlineValidateRequest| {
            Ok(document(to_value(&client.validate_inline(&request)?)))
        }),
        "diff_snapshots" => parse(arguments).and_then(|request: InlineDiffRequest| {
            Ok(document(to_value(&client.diff_inline(&request)?)))
        }),
        _ => return None,
    })
}

/// A JSON document as both text and structured content.
fn document(value: Value) -> Output {
    Output {
        text: Format::Json.render(&value),
        structured: value,
    }
}

/// The arguments as a tool's request type. A mismatch is INVALID_REQUEST,
/// a tool error the assistant can read and correct, as the MCP
/// specification asks of input validation errors.
fn parse<T: DeserializeOwned>(arguments: Value) -> Result<T> {
    serde_json::from_value(arguments).map_err(|e| {
        Error::invalid(format!(
            "arguments do not match the tool's input schema: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<T>(policy: &Policy, f: impl FnOnce(&Context<'_>) -> T) -> T {
        let client = Client::embedded().unwrap();
        f(&Context {
            client: &client,
            catalog: &CatalogSource::Embedded,
            policy,
        })
    }

    fn run(name: &str, arguments: Value) -> Result<Output> {
        with(&|_| Ok(()), |cx| call(cx, name, arguments).unwrap())
    }

    #[test]
    fn every_listed_tool_can_be_called_and_no_other() {
        with(&|_| Ok(()), |cx| {
            for tool in list() {
                // Empty arguments: a result or a typed error, never "no such tool".
                assert!(call(cx, &tool.name, json!({})).is_some());
            }
            assert!(call(cx, "write_file", json!({})).is_none());
        });
    }

    #[test]
    fn the_policy_refuses_recipes_for_criteria_it_does_not_allow() {
        let only_eks: &Policy = &|c| match c.service.as_str() {
            "eks" => Ok(()),
            other => Err(Error::invalid(format!("service {other} not allowed"))),
        };
        let gke = json!({"service": "gke", "accelerator": "h100"});
        for (tool, arguments) in [
            ("resolve_recipe", gke.clone()),
            ("query_recipe", json!({"criteria": gke})),
            ("explain_recipe", json!({"criteria": gke})),
            ("render_bundle", json!({"criteria": gke})),
        ] {
            let err = with(only_eks, |cx| call(cx, tool, arguments).unwrap()).unwrap_err();
            assert!(err.to_string().contains("gke not allowed"), "{tool}: {err}");
        }
        let eks = json!({"service": "eks", "accelerator": "h100"});
        with(only_eks, |cx| call(cx, "resolve_recipe", eks).unwrap()).unwrap();
    }

    #[test]
    fn resolve_recipe_gives_the_recipe_document() {
        let out = run(
            "resolve_recipe",
            json!({"service": "gke", "accelerator": "h100", "intent": "inference"}),
        )
        .unwrap();
        assert_eq!(out.structured["kind"], "RecipeResult");
        assert_eq!(
            serde_json::from_str::<Value>(&out.text).unwrap(),
            out.structured
        );
    }

    #[test]
    fn bad_values_and_unknown_arguments_are_invalid_requests() {
        let err = run("resolve_recipe", json!({"accelerator": "h999"})).unwrap_err();
        assert_eq!(err.code(), aicr::Code::InvalidRequest);
        let err = run("resolve_recipe", json!({"gpu": "h100"})).unwrap_err();
        assert_eq!(err.code(), aicr::Code::InvalidRequest);
        let err = run("list_criteria", json!({"x": 1})).unwrap_err();
        assert_eq!(err.code(), aicr::Code::InvalidRequest);
    }

    #[test]
    fn a_query_for_a_missing_path_is_not_found() {
        let err = run(
            "query_recipe",
            json!({"criteria": {"service": "eks"}, "selector": "components.nope"}),
        )
        .unwrap_err();
        assert_eq!(err.code(), aicr::Code::NotFound);
    }

    #[test]
    fn explain_recipe_narrows_to_one_values_history() {
        let out = run(
            "explain_recipe",
            json!({"criteria": {"service": "eks", "accelerator": "h100", "intent": "training"}, "selector": "components.gpu-operator.values.driver.version"}),
        )
        .unwrap();
        let value = &out.structured["values"][0];
        assert_eq!(value["path"], "driver.version");
        assert_eq!(value["history"][0]["source"]["kind"], "valuesFile");
        let err = run(
            "explain_recipe",
            json!({"criteria": {"service": "eks"}, "selector": "components.nope"}),
        )
        .unwrap_err();
        assert_eq!(err.code(), aicr::Code::NotFound);
        let err = run("explain_recipe", json!({"selector": "."})).unwrap_err();
        assert_eq!(err.code(), aicr::Code::InvalidRequest);
    }

    #[test]
    fn the_embedded_catalog_lints_clean() {
        let out = run("lint_catalog", json!({})).unwrap();
        assert_eq!(out.structured["ok"], true, "{}", out.text);
    }
}
