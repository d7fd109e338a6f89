//! The history of every value path of a hydrated component: a replay of
//! [`crate::query::component_values`] (values files deep-merged, overrides
//! deep-merged through the chain, then coalesced, where a `null` deletes)
//! that records each change. The replayed values are checked against the
//! hydrated ones, so an explanation never disagrees with `aicr query`.

use indexmap::IndexMap;
use serde_json::Value;

use super::{Source, SourceKind, ValueAction, ValueChange, ValueExplanation, lines};
use crate::catalog::Components;
use crate::error::{Error, Result};
use crate::model::Values;
use crate::query::{component_values, values_files};
use crate::recipe::ResolvedComponent;

type Path = Vec<String>;
type History = IndexMap<Path, Vec<ValueChange>>;

/// The hydrated value paths of `c` and the removed ones, each with its
/// history. `overrides` are the documents' `overrides` in merge order.
pub(super) fn trace(
    components: &Components,
    c: &ResolvedComponent,
    overrides: &[(Source, &Values)],
) -> Result<(Vec<ValueExplanation>, Vec<ValueExplanation>)> {
    let mut values = Values::new();
    let mut history = History::new();
    for path in values_files(components, c)? {
        replay_file(components, &path, &mut values, &mut history)?;
    }

    coalesce_overrides(&mut values, &mut history, overrides);

    if values != component_values(components, c)? {
        return Err(Error::internal(format!(
            "the explanation of {}'s values disagrees with its hydrated values",
            c.name
        )));
    }
    let mut present = Vec::new();
    for (key, value) in &values {
        collect_leaves(value, &mut vec![key.clone()], &mut |path, v| {
            present.push(ValueExplanation {
                path: path.join("."),
                value: Some(v.clone()),
                history: history.get(path).cloned().unwrap_or_default(),
            });
        });
    }
    let live: std::collections::HashSet<&str> = present.iter().map(|v| v.path.as_str()).collect();
    let removed = history
        .iter()
        .filter(|(path, changes)| {
            !live.contains(path.join(".").as_str())
                && changes.last().is_some_and(|c| c.action != ValueAction::Set)
        })
        .map(|(path, changes)| ValueExplanation {
            path: path.join("."),
            value: None,
            history: changes.clone(),
        })
        .collect();
    Ok((present, removed))
}

/// Merges `overrides` among themselves (nulls kept), as the resolver
/// merges them through the chain, then coalesces the result over `values`:
/// each surviving override path brings its settings since it last came
/// into being, and a `null` deletes what the files set.
fn coalesce_overrides(values: &mut Values, history: &mut History, overrides: &[(Source, &Values)]) {
    let mut merged = Values::new();
    let mut merged_history = History::new();
    for (source, over) in overrides {
        let set = |_: &[String], v: &Value| vec![change(source, ValueAction::Set, Some(v))];
        let by = |_: &[String]| source.clone();
        replay(
            &mut merged,
            &mut merged_history,
            &mut Vec::new(),
            over,
            false,
            &set,
            &by,
        );
    }
    let set = |p: &[String], _: &Value| effective(merged_history.get(p));
    let by = |p: &[String]| responsible(&merged_history, p);
    replay(values, history, &mut Vec::new(), &merged, true, &set, &by);
}

fn change(source: &Source, action: ValueAction, value: Option<&Value>) -> ValueChange {
    ValueChange {
        source: source.clone(),
        action,
        value: value.cloned(),
    }
}

/// Deep-merges the values file at `path` into `values`, each leaf's change
/// carrying the file and, when the file's lines could be mapped, the line.
fn replay_file(
    components: &Components,
    path: &str,
    values: &mut Values,
    history: &mut History,
) -> Result<()> {
    let file = components.values_file(path)?;
    let provider = components.provider();
    let lines = provider
        .read(path)?
        .and_then(|bytes| lines::of(&bytes))
        .unwrap_or_default();
    let source = |line: Option<u64>| Source {
        kind: SourceKind::ValuesFile,
        name: None,
        file: provider.origin(path),
        line,
    };
    let set = |p: &[String], v: &Value| {
        vec![change(
            &source(lines.get(p).copied()),
            ValueAction::Set,
            Some(v),
        )]
    };
    let by = |p: &[String]| source(lines.get(p).copied());
    replay(values, history, &mut Vec::new(), &file, false, &set, &by);
    Ok(())
}

/// The settings of a merged override path since its last removal.
fn effective(changes: Option<&Vec<ValueChange>>) -> Vec<ValueChange> {
    let changes = changes.map(Vec::as_slice).unwrap_or_default();
    let start = changes
        .iter()
        .rposition(|c| c.action != ValueAction::Set)
        .map_or(0, |i| i + 1);
    changes[start..].to_vec()
}

/// Who set the merged override at `path` last: its own last setting, or,
/// for a mapping, the last setting of a path under it.
fn responsible(history: &History, path: &[String]) -> Source {
    let own = history.get(path).and_then(|c| c.last());
    let under = || {
        history
            .iter()
            .filter(|(p, _)| p.starts_with(path))
            .filter_map(|(_, c)| c.last())
            .next_back()
    };
    own.or_else(under)
        .map(|c| c.source.clone())
        .unwrap_or_else(|| Source {
            kind: SourceKind::Overlay,
            name: None,
            file: String::new(),
            line: None,
        })
}

/// Merges `over` into `into` as [`crate::values::deep_merge`] does, or as
/// [`crate::values::coalesce`] does when `coalesce`, recording each leaf
/// set (`set` gives its changes) and each leaf removed (`by` names who
/// removed it).
fn replay(
    into: &mut Values,
    history: &mut History,
    path: &mut Path,
    over: &Values,
    coalesce: bool,
    set: &dyn Fn(&[String], &Value) -> Vec<ValueChange>,
    by: &dyn Fn(&[String]) -> Source,
) {
    for (key, value) in over {
        path.push(key.clone());
        match (into.get_mut(key), value) {
            (Some(_), Value::Null) if coalesce => {
                if let Some(old) = into.shift_remove(key) {
                    let source = by(path);
                    collect_leaves(&old, path, &mut |leaf, _| {
                        history.entry(leaf.to_vec()).or_default().push(change(
                            &source,
                            ValueAction::Delete,
                            None,
                        ));
                    });
                }
            }
            (Some(Value::Object(inner)), Value::Object(from)) => {
                replay(inner, history, path, from, coalesce, set, by);
            }
            _ => {
                let mut new = Vec::new();
                collect_leaves(value, path, &mut |leaf, v| {
                    new.push((leaf.to_vec(), v.clone()))
                });
                if let Some(old) = into.get(key) {
                    let source = by(path);
                    collect_leaves(old, path, &mut |leaf, _| {
                        if !new.iter().any(|(p, _)| p == leaf) {
                            history.entry(leaf.to_vec()).or_default().push(change(
                                &source,
                                ValueAction::Replace,
                                None,
                            ));
                        }
                    });
                }
                into.insert(key.clone(), value.clone());
                for (leaf, v) in new {
                    let changes = set(&leaf, &v);
                    history.entry(leaf).or_default().extend(changes);
                }
            }
        }
        path.pop();
    }
}

/// Calls `f` for each leaf under `value` (at `path`): scalars, lists, nulls
/// and empty mappings, in document order.
fn collect_leaves(value: &Value, path: &mut Path, f: &mut dyn FnMut(&[String], &Value)) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                path.push(key.clone());
                collect_leaves(v, path, f);
                path.pop();
            }
        }
        _ => f(path, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(name: &str) -> Source {
        Source {
            kind: SourceKind::Overlay,
            name: Some(name.into()),
            file: format!("{name}.yaml"),
            line: None,
        }
    }

    fn map(v: Value) -> Values {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// Replays `layers` (merge, merge, ..., then the overrides coalesced)
    /// and returns the values with the history.
    fn run(files: &[Value], overrides: &[(&str, Value)]) -> (Values, History) {
        let mut values = Values::new();
        let mut history = History::new();
        for (i, file) in files.iter().enumerate() {
            let s = source(&format!("file{i}"));
            let set = |_: &[String], v: &Value| vec![change(&s, ValueAction::Set, Some(v))];
            let by = |_: &[String]| s.clone();
            let file = map(file.clone());
            replay(
                &mut values,
                &mut history,
                &mut Vec::new(),
                &file,
                false,
                &set,
                &by,
            );
        }
        let overrides: Vec<(Source, Values)> = overrides
            .iter()
            .map(|(name, over)| (source(name), map(over.clone())))
            .collect();
        let overrides: Vec<(Source, &Values)> =
            overrides.iter().map(|(s, o)| (s.clone(), o)).collect();
        coalesce_overrides(&mut values, &mut history, &overrides);
        (values, history)
    }

    fn actions(history: &History, path: &[&str]) -> Vec<(String, ValueAction)> {
        let path: Path = path.iter().map(|s| s.to_string()).collect();
        history[&path]
            .iter()
            .map(|c| (c.source.name.clone().unwrap_or_default(), c.action))
            .collect()
    }

    #[test]
    fn null_override_deletes_a_file_key_and_says_who() {
        let (values, history) = run(
            &[json!({"a": {"b": 1, "c": 2}})],
            &[("leaf", json!({"a": {"b": null}}))],
        );
        assert_eq!(Value::Object(values), json!({"a": {"c": 2}}));
        assert_eq!(
            actions(&history, &["a", "b"]),
            [
                ("file0".into(), ValueAction::Set),
                ("leaf".into(), ValueAction::Delete)
            ]
        );
    }

    #[test]
    fn null_then_value_among_overrides_keeps_the_value() {
        // deep_merge of the overrides replaces the null before coalescing,
        // so the file's sibling survives and the null never acted.
        let (values, history) = run(
            &[json!({"a": {"b": 1}})],
            &[
                ("mid", json!({"a": null})),
                ("leaf", json!({"a": {"c": 2}})),
            ],
        );
        assert_eq!(Value::Object(values), json!({"a": {"b": 1, "c": 2}}));
        assert_eq!(
            actions(&history, &["a", "b"]),
            [("file0".into(), ValueAction::Set)]
        );
        assert_eq!(
            actions(&history, &["a", "c"]),
            [("leaf".into(), ValueAction::Set)]
        );
    }

    #[test]
    fn scalar_replacing_a_mapping_removes_its_leaves() {
        let (values, history) = run(&[json!({"a": {"b": 1}}), json!({"a": 5})], &[]);
        assert_eq!(Value::Object(values), json!({"a": 5}));
        assert_eq!(
            actions(&history, &["a", "b"]),
            [
                ("file0".into(), ValueAction::Set),
                ("file1".into(), ValueAction::Replace)
            ]
        );
    }

    #[test]
    fn a_null_for_a_key_the_files_lack_is_kept() {
        let (values, history) = run(&[json!({})], &[("leaf", json!({"x": null}))]);
        assert_eq!(Value::Object(values), json!({"x": null}));
        assert_eq!(
            actions(&history, &["x"]),
            [("leaf".into(), ValueAction::Set)]
        );
    }
}
