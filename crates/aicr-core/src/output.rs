//! Output formats shared by the CLI and the server: YAML (keys sorted
//! recursively), JSON (declared order) and a two-column table.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::yaml::{to_json, to_yaml};

/// A document output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// YAML with sorted keys.
    #[default]
    Yaml,
    /// Indented JSON.
    Json,
    /// `FIELD  VALUE` rows of flattened keys.
    Table,
}

impl Format {
    /// Parses `yaml`, `json` or `table`.
    pub fn parse(input: &str) -> Result<Self> {
        match input.trim().to_ascii_lowercase().as_str() {
            "yaml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            "table" => Ok(Format::Table),
            _ => Err(Error::invalid(format!(
                "unknown output format: {input:?}, valid formats are: yaml, json, table"
            ))),
        }
    }
}

impl Format {
    /// Renders a whole document (a recipe, a snapshot, a report).
    pub fn render<T: serde::Serialize>(self, doc: &T) -> String {
        render(&crate::yaml::to_value(doc), self)
    }

    /// Renders a value selected from a document (see [`render_selected`]).
    pub fn render_selected(self, value: &Value) -> String {
        render_selected(value, self)
    }
}

/// Renders a whole document.
pub fn render(value: &Value, format: Format) -> String {
    match format {
        Format::Yaml => to_yaml(value),
        Format::Json => to_json(value),
        Format::Table => to_table(value),
    }
}

/// Renders a selected value: scalars as plain text (JSON when asked for
/// JSON), mappings and lists as documents.
pub fn render_selected(value: &Value, format: Format) -> String {
    match (format, value) {
        (Format::Json, _) => to_json(value),
        (_, Value::String(s)) => format!("{s}\n"),
        (_, Value::Bool(_) | Value::Number(_) | Value::Null) => format!("{value}\n"),
        _ => to_yaml(value),
    }
}

/// Flattens a value into sorted `a.b.[0].c` rows.
fn to_table(value: &Value) -> String {
    let mut rows = Vec::new();
    flatten(value, String::new(), &mut rows);
    rows.sort();
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(5).max(5);
    let mut out = format!("{:<width$}  VALUE\n{:<width$}  -----\n", "FIELD", "-----");
    for (k, v) in rows {
        out.push_str(&format!("{k:<width$}  {v}\n"));
    }
    out
}

fn flatten(value: &Value, prefix: String, rows: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten(v, join(k), rows);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(v, join(&format!("[{i}]")), rows);
            }
        }
        Value::String(s) if !s.is_empty() => rows.push((prefix, s.clone())),
        Value::Bool(_) | Value::Number(_) => rows.push((prefix, value.to_string())),
        _ => rows.push((prefix, "<empty>".into())),
    }
}
