//! Reading and writing documents: strict YAML parsing with the file and
//! line in every error, and deterministic YAML (keys sorted recursively)
//! and JSON (declared order, 2-space indent) output.

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// Parses one YAML document into `T`; the error names `origin` and carries
/// the parser's line and column.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], origin: &str) -> Result<T> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::invalid(format!("{origin}: not UTF-8 text: {e}")))?;
    parse_str(text, origin)
}

/// Parses one YAML document from text.
pub fn parse_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    serde_saphyr::from_str(text).map_err(|e| {
        let report = one_line(&e.render_with_formatter(&UserWords));
        Error::invalid(format!("{origin}: {}", bounded(&report)))
    })
}

/// The parser's user-facing wording, with the few messages that still name
/// the library's options or internals reworded for people who edit YAML.
struct UserWords;

impl serde_saphyr::MessageFormatter for UserWords {
    fn format_message<'a>(&self, err: &'a serde_saphyr::Error) -> Cow<'a, str> {
        use serde_saphyr::Error as E;
        match err {
            E::Budget { .. } => Cow::Borrowed(
                "the document is too large, too deeply nested or has too many aliases to be read safely",
            ),
            E::MultipleDocuments { .. } => Cow::Borrowed(
                "more than one YAML document (a `---` separator) where one is expected",
            ),
            _ => serde_saphyr::UserMessageFormatter.format_message(err),
        }
    }
}

/// At most 400 characters of a parser report: it can quote the input, and
/// the input can be a 5,000-digit number.
fn bounded(report: &str) -> String {
    match report.char_indices().nth(400) {
        Some((cut, _)) => format!("{}…", &report[..cut]),
        None => report.to_string(),
    }
}

/// Collapses a multi-line parser report into one readable line.
fn one_line(report: &str) -> String {
    report
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 1-based line of the first top-level `key:` in `text`, for messages
/// about fields that parsed but hold a wrong value.
pub fn line_of(text: &[u8], key: &str) -> usize {
    let text = String::from_utf8_lossy(text);
    let prefix = format!("{key}:");
    text.lines()
        .position(|l| l.starts_with(&prefix))
        .map_or(1, |i| i + 1)
}

/// Converts a serialisable value into the ordered JSON value model.
pub fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("document types always serialise")
}

/// Renders YAML with keys sorted recursively and 2-space indentation.
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(&SortedKeys(value)).expect("JSON values always render as YAML")
}

/// Serialises a value with the keys of every map in sorted order, without
/// copying it.
pub struct SortedKeys<'a>(pub &'a Value);

impl serde::Serialize for SortedKeys<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self.0 {
            Value::Object(map) => SortedMap(map).serialize(serializer),
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&SortedKeys(item))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// [`SortedKeys`] of a map.
pub struct SortedMap<'a>(pub &'a serde_json::Map<String, Value>);

impl serde::Serialize for SortedMap<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut entries: Vec<_> = self.0.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = serializer.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            out.serialize_entry(k, &SortedKeys(v))?;
        }
        out.end()
    }
}

/// Renders indented JSON (2 spaces, declared order) with a trailing newline.
pub fn to_json(value: &Value) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("JSON values always render");
    out.push('\n');
    out
}
