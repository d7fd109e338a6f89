//! Helm values: deep merge and the `--set component:path=value` grammar.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Values;

/// Deep-merges `over` into `base`: mappings recurse, anything else
/// (scalars, lists, null) replaces.
pub fn deep_merge(base: &mut Values, over: &Values) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Object(into)), Value::Object(from)) => deep_merge(into, from),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Merges overrides into a values file the way the reference hydrates
/// them: like [`deep_merge`], but a `null` for a key the values file has
/// deletes it (Helm's way to drop a chart default). A `null` under a key
/// the file lacks is kept, so the chart sees it. The overrides themselves
/// keep their `null`s while merged through the chain.
pub fn coalesce(base: &mut Values, over: &Values) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(_), Value::Null) => {
                base.shift_remove(key);
            }
            (Some(Value::Object(into)), Value::Object(from)) => coalesce(into, from),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// One `--set` assignment: `component:dotted.path=value`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetOverride {
    /// Component name or registry alias, as written.
    pub component: String,
    /// Dotted path into the component's values.
    pub path: Vec<String>,
    /// The value, typed as Helm's `--set` types it.
    pub value: Value,
}

impl SetOverride {
    /// Parses `component:path=value`.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "invalid --set {:?}: {why} (expected component:path=value)",
                crate::error::escape(&shorten(input))
            ))
        };
        let (component, rest) = input.split_once(':').ok_or_else(|| bad("missing ':'"))?;
        let (path, raw) = rest.split_once('=').ok_or_else(|| bad("missing '='"))?;
        let component = component.trim();
        let path = path.trim();
        if component.is_empty() {
            return Err(bad("empty component"));
        }
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(bad("empty path segment"));
        }
        if path.split('.').count() > MAX_PATH_SEGMENTS {
            return Err(bad(&format!(
                "the path has more than {MAX_PATH_SEGMENTS} segments"
            )));
        }
        // `component:enabled=...` switches a component; take the boolean
        // spellings Go's strconv.ParseBool takes, as the reference does,
        // and refuse the rest rather than guess.
        let value = if path == "enabled" {
            Value::Bool(parse_go_bool(raw.trim()).ok_or_else(|| {
                bad("enabled takes true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False)")
            })?)
        } else {
            typed_scalar(raw)
        };
        Ok(SetOverride {
            component: component.to_string(),
            path: path.split('.').map(str::to_string).collect(),
            value,
        })
    }

    /// Writes the value at its path in `values`, creating mappings on the way.
    pub fn apply(&self, values: &mut Values) {
        set_path(values, &self.path, self.value.clone());
    }
}

/// Deepest value path `--set` and `--dynamic` accept: far beyond any chart,
/// and shallow enough that nothing recursing over it can overflow.
pub const MAX_PATH_SEGMENTS: usize = 64;

/// The first 120 characters of echoed input, so a huge flag value does not
/// become a huge message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Types a `--set` value: booleans, null and integers as such, anything
/// else as a string.
fn typed_scalar(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => raw
            .parse::<i64>()
            .ok()
            .filter(|_| !(raw.starts_with('+') || raw.len() > 1 && raw.starts_with('0')))
            .map_or_else(|| Value::String(raw.to_string()), Value::from),
    }
}

/// Sets `value` at `path`, replacing non-mapping values on the way.
pub fn set_path(values: &mut Values, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = values;
    for key in parents {
        let slot = node
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Values::new()));
        if !slot.is_object() {
            *slot = Value::Object(Values::new());
        }
        node = slot.as_object_mut().expect("just made a mapping");
    }
    node.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_takes_go_boolean_spellings_and_refuses_the_rest() {
        for (raw, want) in [
            ("True", true),
            ("1", true),
            ("t", true),
            ("F", false),
            ("0", false),
        ] {
            let set = SetOverride::parse(&format!("gpuoperator:enabled={raw}")).unwrap();
            assert_eq!(set.value, Value::Bool(want), "{raw}");
        }
        for raw in ["yes", "on", "", "tRuE"] {
            assert!(
                SetOverride::parse(&format!("c:enabled={raw}")).is_err(),
                "{raw}"
            );
        }
    }

    #[test]
    fn very_deep_paths_are_refused_with_a_short_message() {
        let deep = format!("c:{}=1", vec!["a"; 20_000].join("."));
        let err = SetOverride::parse(&deep).unwrap_err();
        assert!(err.to_string().len() < 400, "{}", err.to_string().len());
        let ok = format!("c:{}=1", vec!["a"; MAX_PATH_SEGMENTS].join("."));
        assert!(SetOverride::parse(&ok).is_ok());
    }
    use serde_json::json;

    fn map(v: Value) -> Values {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn maps_recurse_and_lists_replace() {
        let mut base = map(json!({"a": {"b": 1, "c": [1, 2]}, "d": 1}));
        deep_merge(&mut base, &map(json!({"a": {"c": [3], "e": null}})));
        assert_eq!(
            Value::Object(base),
            json!({"a": {"b": 1, "c": [3], "e": null}, "d": 1})
        );
    }

    #[test]
    fn set_grammar() {
        let s = SetOverride::parse("gpuoperator:driver.version=580.1").unwrap();
        assert_eq!(s.component, "gpuoperator");
        assert_eq!(s.path, ["driver", "version"]);
        assert_eq!(s.value, json!("580.1"));
        assert_eq!(
            SetOverride::parse("x:enabled=false").unwrap().value,
            json!(false)
        );
        assert_eq!(SetOverride::parse("x:replicas=3").unwrap().value, json!(3));
        for bad in ["novalue", "x:path", ":a=b", "x:=b", "x:a..b=c"] {
            assert!(SetOverride::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod laws {
    use super::*;
    use proptest::prelude::*;

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            (0i64..100).prop_map(Value::from),
            "[a-z]{0,3}".prop_map(Value::String),
            prop::collection::vec((0i64..5).prop_map(Value::from), 0..3).prop_map(Value::Array),
        ]
    }

    fn values() -> impl Strategy<Value = Values> {
        let tree = leaf().prop_recursive(3, 24, 4, |inner| {
            prop::collection::btree_map("[a-d]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        });
        prop::collection::btree_map("[a-d]", tree, 0..4).prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        // Deep merge is not associative in general (a scalar in the middle
        // cuts a map off), so the laws we rely on are these.
        #[test]
        fn disjoint_merges_commute(a in values(), b in values()) {
            let b: Values = b.into_iter().filter(|(k, _)| !a.contains_key(k)).collect();
            let mut ab = a.clone();
            deep_merge(&mut ab, &b);
            let mut ba = b.clone();
            deep_merge(&mut ba, &a);
            prop_assert_eq!(ab, ba);
        }

        #[test]
        fn merging_with_itself_changes_nothing(a in values()) {
            let mut same = a.clone();
            deep_merge(&mut same, &a);
            prop_assert_eq!(same, a);
        }

        #[test]
        fn merging_is_idempotent_and_empty_is_identity(a in values(), b in values()) {
            let mut once = a.clone();
            deep_merge(&mut once, &b);
            let mut twice = once.clone();
            deep_merge(&mut twice, &b);
            prop_assert_eq!(&once, &twice);
            let mut same = a.clone();
            deep_merge(&mut same, &Values::new());
            prop_assert_eq!(same, a);
        }

        #[test]
        fn later_leaves_win(a in values(), b in values()) {
            let mut merged = a.clone();
            deep_merge(&mut merged, &b);
            for (k, v) in &b {
                if !v.is_object() {
                    prop_assert_eq!(merged.get(k), Some(v));
                }
            }
        }
    }
}
