//! Why a document did not parse, in full: when the strict parse of a file
//! fails and the loader collects problems, the file is read again leniently
//! so that a wrong header, each bad criteria value and the first strict
//! parse error are all reported, each with its field and a suggestion.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Problem;
use super::field_path;
use crate::criteria::{Accelerator, Intent, Os, Platform, Service};
use crate::header::{ApiVersion, Document, Kind};
use crate::suggest::closest;

/// Diagnoses a document that failed to parse strictly. Returns the document
/// when the only problems were criteria values (read as `any` so later
/// rules still run), else the document's name if it has one.
pub(super) fn document<T: DeserializeOwned + Document>(
    bytes: &[u8],
    file: &str,
    problems: &mut Vec<Problem>,
) -> Result<T, Option<String>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            problems.push(Problem::new(file, "", format!("not UTF-8 text: {e}")));
            return Err(None);
        }
    };
    let loose: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(parser_problem(text, file, &e.to_string()));
            return Err(None);
        }
    };
    let name = loose
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let header_ok = header::<T>(&loose, file, problems);
    let mut text = std::borrow::Cow::Borrowed(text);
    if !header_ok {
        text = std::borrow::Cow::Owned(fix_header::<T>(&text));
    }
    let (mut patched, criteria_reported) = check_criteria(&loose, file, problems);
    if let Value::Object(map) = &mut patched {
        map.insert("kind".into(), Value::String(T::KIND.into()));
        map.insert("apiVersion".into(), Value::String(T::API_VERSION.into()));
    }
    let doc = match serde_saphyr::from_str::<T>(&text) {
        Ok(doc) => doc,
        Err(e) => match serde_json::from_value::<T>(patched) {
            // A bad criteria value was reported with its suggestion; the
            // rest parses with that value as `any`.
            Ok(doc) if criteria_reported => doc,
            _ => {
                problems.push(parser_problem(&text, file, &e.to_string()));
                return Err(name);
            }
        },
    };
    if header_ok { Ok(doc) } else { Err(name) }
}

/// Checks `kind` and `apiVersion` with the header types themselves.
fn header<T: Document>(loose: &Value, file: &str, problems: &mut Vec<Problem>) -> bool {
    let found = |key: &str| {
        loose
            .get(key)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
    };
    let kind = found("kind");
    let api = found("apiVersion");
    let mut ok = true;
    for (field, result, want) in [
        ("kind", Kind::<T>::check(kind.as_deref()).err(), T::KIND),
        (
            "apiVersion",
            ApiVersion::<T>::check(api.as_deref()).err(),
            T::API_VERSION,
        ),
    ] {
        if let Some(message) = result {
            ok = false;
            let got = if field == "kind" { &kind } else { &api };
            let suggestion = got.as_deref().and_then(|g| closest(g, [want]));
            problems.push(Problem::new(file, field, message).suggest(suggestion));
        }
    }
    ok
}

/// `text` with its top-level `kind:` and `apiVersion:` lines set to the
/// required values, line numbers unchanged, so the strict parse can go on
/// to report what else is wrong.
fn fix_header<T: Document>(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let eol = &line[line.trim_end_matches(['\r', '\n']).len()..];
        if line.starts_with("kind:") {
            out.push_str(&format!("kind: {}{eol}", T::KIND));
        } else if line.starts_with("apiVersion:") {
            out.push_str(&format!("apiVersion: {}{eol}", T::API_VERSION));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Reports unknown values under `spec.criteria` with a suggestion and
/// returns the document with those values replaced by `any`.
fn check_criteria(doc: &Value, file: &str, problems: &mut Vec<Problem>) -> (Value, bool) {
    let mut patched = doc.clone();
    let mut reported = false;
    let Some(criteria) = patched
        .get_mut("spec")
        .and_then(|s| s.get_mut("criteria"))
        .and_then(Value::as_object_mut)
    else {
        return (patched, false);
    };
    for (dim, value) in criteria.iter_mut() {
        let Some(text) = value.as_str() else {
            continue;
        };
        let (ok, valid): (bool, &[&str]) = match dim.as_str() {
            "service" => (Service::parse(text).is_ok(), Service::VALUES),
            "accelerator" => (Accelerator::parse(text).is_ok(), Accelerator::VALUES),
            "intent" => (Intent::parse(text).is_ok(), Intent::VALUES),
            "os" => (Os::parse(text).is_ok(), Os::VALUES),
            "platform" => (Platform::parse(text).is_ok(), Platform::VALUES),
            _ => continue,
        };
        if !ok {
            problems.push(
                Problem::new(
                    file,
                    format!("spec.criteria.{dim}"),
                    format!("invalid {dim} {text:?} (valid: any, {})", valid.join(", ")),
                )
                .suggest(closest(text, valid.iter().copied())),
            );
            *value = Value::String("any".into());
            reported = true;
        }
    }
    (patched, reported)
}

/// Turns a parser report into a problem: its first line (the source
/// excerpt that follows is dropped), the field found from the line number,
/// and a suggestion for an unknown field.
fn parser_problem(text: &str, file: &str, report: &str) -> Problem {
    let first = report.lines().map(str::trim).find(|l| !l.is_empty());
    let first = first.unwrap_or("unreadable YAML");
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let message = message.split(" --> ").next().unwrap_or(message).trim();
    let field = line_number(message)
        .map(|line| field_path::at_line(text, line))
        .unwrap_or_default();
    let suggestion = unknown_field_hint(message);
    Problem::new(file, field, message).suggest(suggestion)
}

/// The first `line N` in a parser message.
fn line_number(message: &str) -> Option<usize> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// For "unknown field `x`, expected one of a, b": the closest of a, b.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = &message[message.find("unknown field `")? + 15..];
    let field = &rest[..rest.find('`')?];
    let expected = &rest[rest.find("expected")? + 8..];
    let expected = expected.trim_start().trim_start_matches("one of").trim();
    let names = expected
        .split(',')
        .map(|n| n.trim().trim_matches('`'))
        .filter(|n| !n.is_empty());
    closest(field, names).map(str::to_string)
}
