//! The readable form of an explanation (`-t table`).

use std::fmt::Write;

use serde_json::Value;

use super::{
    ComponentExplanation, Explanation, FieldExplanation, Outcome, Selection, Setting, ValueAction,
    ValueExplanation,
};

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
        component(&mut out, c);
    }
    out
}

/// A selection of the explanation (see [`super::pick`]) as text.
pub fn render_selection(selection: &Selection<'_>) -> String {
    let mut out = String::new();
    match selection {
        Selection::Whole(e) => return render_table(e),
        Selection::Constraint(c) => {
            let _ = writeln!(out, "{} {}", c.name, c.value);
            settings(&mut out, &c.history, 2);
        }
        Selection::Component(c) => component(&mut out, c),
        Selection::Field(f) => field(&mut out, f, 0),
        Selection::Values {
            component,
            values: present,
            removed,
        } => {
            heading(&mut out, component);
            values(&mut out, present, removed);
        }
    }
    out
}

fn heading(out: &mut String, c: &ComponentExplanation) {
    let _ = writeln!(out, "  {} (added by {})", c.name, c.added_by);
}

/// A component's block: its fields and values.
fn component(out: &mut String, c: &ComponentExplanation) {
    heading(out, c);
    for f in &c.fields {
        field(out, f, 4);
    }
    let present: Vec<&ValueExplanation> = c.values.iter().collect();
    let removed: Vec<&ValueExplanation> = c.removed_values.iter().collect();
    values(out, &present, &removed);
}

fn field(out: &mut String, f: &FieldExplanation, indent: usize) {
    let _ = writeln!(out, "{:indent$}{} = {}", "", f.field, scalar(&f.value));
    settings(out, &f.history, indent + 2);
}

fn values(out: &mut String, present: &[&ValueExplanation], removed: &[&ValueExplanation]) {
    if !present.is_empty() {
        out.push_str("    values:\n");
        for v in present.iter().copied() {
            let shown = v.value.as_ref().map_or_else(String::new, scalar);
            let _ = writeln!(out, "      {} = {shown}", v.path);
            changes(out, v);
        }
    }
    if !removed.is_empty() {
        out.push_str("    removed values:\n");
        for v in removed.iter().copied() {
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
