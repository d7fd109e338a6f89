//! The readable form of an explanation (`-t table`).

use std::fmt::Write;

use serde_json::Value;

use super::{
    ComponentExplanation, Explanation, FieldExplanation, Outcome, Setting, ValueAction,
    ValueExplanation,
};
use crate::error::Result;

/// The whole explanation as text.
pub fn render_table(e: &Explanation) -> String {
    let mut out = String::new();
    let c = &e.criteria;
    let nodes = if c.nodes == 0 {
        "any".to_string()
    } else {
        c.nodes.to_string()
    };
    let _ = writeln!(
        out,
        "Query: service={} accelerator={} intent={} os={} platform={} nodes={nodes}",
        c.service, c.accelerator, c.intent, c.os, c.platform
    );

    out.push_str("\nOVERLAYS\n");
    let width = e.overlays.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for o in &e.overlays {
        let (outcome, why) = match o.outcome {
            Outcome::Leaf => ("leaf", String::new()),
            Outcome::Excluded => ("excluded", "a snapshot constraint failed".to_string()),
            Outcome::Ancestor => (
                "ancestor",
                format!("ancestor of {}", o.ancestor_of.join(", ")),
            ),
            Outcome::NotMatched => (
                "no match",
                o.mismatches
                    .iter()
                    .map(|m| m.reason.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        let _ = writeln!(out, "  {:width$}  {outcome:9} {why}", o.name);
    }

    out.push_str("\nLEAVES\n");
    if e.leaves.is_empty() {
        out.push_str("  (none: only base applies)\n");
    }
    for l in &e.leaves {
        let _ = write!(out, "  {}: {}", l.name, l.chain.join(" -> "));
        if !l.mixins.is_empty() {
            let _ = write!(out, " + mixins {}", l.mixins.join(", "));
        }
        out.push('\n');
    }

    out.push_str("\nMERGE ORDER\n");
    for (i, s) in e.merge_order.iter().enumerate() {
        let _ = writeln!(out, "  {}. {s}", i + 1);
    }

    if !e.constraints.is_empty() {
        out.push_str("\nCONSTRAINTS\n");
        for c in &e.constraints {
            let _ = writeln!(out, "  {} {}", c.name, c.value);
            settings(&mut out, &c.history, 6);
        }
    }
    if !e.validation.is_empty() {
        out.push_str("\nVALIDATION\n");
        for p in &e.validation {
            let _ = writeln!(
                out,
                "  {}: {} (from {})",
                p.phase,
                p.checks.join(", "),
                p.source
            );
        }
    }

    out.push_str("\nCOMPONENTS\n");
    for c in &e.components {
        component(&mut out, c, None);
    }
    out
}

/// The part of the explanation `selector` names (see [`super::select`]) as
/// text.
pub fn render_selection(e: &Explanation, selector: &str) -> Result<String> {
    let path = selector.strip_prefix('.').unwrap_or(selector);
    if path.is_empty() {
        return Ok(render_table(e));
    }
    // select() checks the selector and gives its errors.
    let selected = super::select(e, selector)?;
    let mut out = String::new();
    if let Some(name) = path.strip_prefix("constraints.") {
        if let Some(c) = e.constraints.iter().find(|c| c.name == name) {
            let _ = writeln!(out, "{} {}", c.name, c.value);
            settings(&mut out, &c.history, 2);
        }
        return Ok(out);
    }
    let rest = path.strip_prefix("components.").unwrap_or(path);
    let (name, tail) = rest.split_once('.').unwrap_or((rest, ""));
    let Some(c) = e.components.iter().find(|c| c.name == name) else {
        return Ok(out);
    };
    if tail.is_empty() {
        component(&mut out, c, None);
    } else if tail == "values" || tail.starts_with("values.") {
        let prefix = tail.strip_prefix("values").unwrap_or_default();
        component(
            &mut out,
            c,
            Some(prefix.strip_prefix('.').unwrap_or(prefix)),
        );
    } else if let Some(f) = c.fields.iter().find(|f| f.field == tail) {
        field(&mut out, f, 0);
    } else {
        let _ = writeln!(out, "{selected}");
    }
    Ok(out)
}

/// A component's block; with `values_under`, only its values at or under
/// that path.
fn component(out: &mut String, c: &ComponentExplanation, values_under: Option<&str>) {
    let _ = writeln!(out, "  {} (added by {})", c.name, c.added_by);
    let Some(prefix) = values_under else {
        for f in &c.fields {
            field(out, f, 4);
        }
        return values(out, &c.values, &c.removed_values, "");
    };
    values(out, &c.values, &c.removed_values, prefix);
}

fn field(out: &mut String, f: &FieldExplanation, indent: usize) {
    let _ = writeln!(out, "{:indent$}{} = {}", "", f.field, scalar(&f.value));
    settings(out, &f.history, indent + 2);
}

fn values(
    out: &mut String,
    present: &[ValueExplanation],
    removed: &[ValueExplanation],
    prefix: &str,
) {
    let under = |v: &&ValueExplanation| {
        prefix.is_empty() || v.path == prefix || v.path.starts_with(&format!("{prefix}."))
    };
    let present: Vec<&ValueExplanation> = present.iter().filter(under).collect();
    let removed: Vec<&ValueExplanation> = removed.iter().filter(under).collect();
    if !present.is_empty() {
        out.push_str("    values:\n");
        for v in present {
            let shown = v.value.as_ref().map_or_else(String::new, scalar);
            let _ = writeln!(out, "      {} = {shown}", v.path);
            changes(out, v);
        }
    }
    if !removed.is_empty() {
        out.push_str("    removed values:\n");
        for v in removed {
            let _ = writeln!(out, "      {}", v.path);
            changes(out, v);
        }
    }
}

fn changes(out: &mut String, v: &ValueExplanation) {
    for c in &v.history {
        let what = match (c.action, &c.value) {
            (ValueAction::Set, Some(value)) => format!("set {}", scalar(value)),
            (ValueAction::Set, None) => "set".to_string(),
            (ValueAction::Delete, _) => "deleted (null)".to_string(),
            (ValueAction::Replace, _) => "removed (a parent path was replaced)".to_string(),
        };
        let _ = writeln!(out, "        {}: {what}", c.source);
    }
}

fn settings(out: &mut String, history: &[Setting], indent: usize) {
    for s in history {
        let _ = writeln!(out, "{:indent$}{}: {}", "", s.source, scalar(&s.value));
    }
}

/// A value on one line: strings bare, the rest as compact JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
