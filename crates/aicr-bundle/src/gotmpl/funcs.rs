//! The template functions and Go's value semantics: truth, `%v`
//! formatting and comparison.
//!
//! `default`, `nindent`, `toYaml` and `toString` follow the reference's own
//! function map (`pkg/manifest`), which is what decides the bundles it
//! writes: `default` replaces only nil and `""` (not `false` or `0`), and
//! `nindent` leaves empty lines unpadded. `indent`, `quote`, `required`
//! and `empty` follow Sprig/Helm.

use serde_json::Value;

use super::toyaml::to_yaml;

/// Functions evaluated lazily by the interpreter itself.
pub(super) const LAZY: [&str; 2] = ["and", "or"];

const EAGER: [&str; 12] = [
    "index", "not", "eq", "ne", "toString", "default", "toYaml", "nindent", "indent", "quote",
    "required", "empty",
];

/// Whether `name` is a function the templates may call.
pub(super) fn is_function(name: &str) -> bool {
    LAZY.contains(&name) || EAGER.contains(&name)
}

/// Go's truth: false, 0, nil and empty strings, lists and maps are false.
pub(super) fn truth(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The Go type name of a value as decoded from YAML, for messages.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `%v` of a float (`strconv.FormatFloat(f, 'g', -1, 64)`), shared
/// with snapshot readings.
pub(super) use aicr_core::snapshot::go_float;

/// Formats a number as Go prints the decoded YAML value.
pub(super) fn go_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        go_float(n.as_f64().unwrap_or(0.0))
    } else {
        n.to_string()
    }
}

/// Go's `fmt.Sprint` / `%v` of a value (`<nil>`, `map[a:1]`, `[x y]`).
pub(super) fn go_sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_sprint).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_sprint(&map[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `eq` for two basic values: nil equals only nil, integers and
/// floats do not mix, maps and lists are not comparable.
pub(super) fn go_eq(a: &Value, b: &Value) -> Result<bool, String> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Ok(a.is_null() && b.is_null()),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::String(x), Value::String(y)) => Ok(x == y),
        (Value::Number(x), Value::Number(y)) if x.is_f64() == y.is_f64() => Ok(if x.is_f64() {
            x.as_f64() == y.as_f64()
        } else {
            x.as_i128() == y.as_i128()
        }),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
            Err(format!(
                "non-comparable type {}",
                type_name(if a.is_array() || a.is_object() { a } else { b })
            ))
        }
        _ => Err("incompatible types for comparison".into()),
    }
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

/// Widest `indent`/`nindent` we pad to: far beyond any manifest, small
/// enough that padding cannot exhaust memory.
const MAX_INDENT: usize = 1024;

fn as_int(name: &str, v: &Value) -> Result<usize, String> {
    match v {
        Value::Number(n) if !n.is_f64() => n
            .as_u64()
            .and_then(|u| usize::try_from(u).ok())
            .ok_or_else(|| format!("{name}: negative indent {n}"))
            .and_then(|width| {
                if width > MAX_INDENT {
                    Err(format!("{name}: indent {width} is wider than {MAX_INDENT}"))
                } else {
                    Ok(width)
                }
            }),
        other => Err(format!(
            "wrong type for value; expected int; got {}",
            type_name(other)
        )),
    }
}

fn as_str(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => Err("invalid value; expected string".into()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            type_name(other)
        )),
    }
}

/// Calls an eager function with evaluated arguments (the piped value last).
pub(super) fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
    match name {
        "index" => index(args),
        "not" => {
            want(name, &args, 1)?;
            Ok(Value::Bool(!truth(&args[0])))
        }
        "eq" => {
            if args.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            for other in &args[1..] {
                if go_eq(&args[0], other)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        "ne" => {
            want(name, &args, 2)?;
            Ok(Value::Bool(!go_eq(&args[0], &args[1])?))
        }
        "toString" => {
            want(name, &args, 1)?;
            Ok(Value::String(go_sprint(&args[0])))
        }
        "default" => {
            want(name, &args, 2)?;
            let mut args = args;
            let given = args.pop().unwrap_or(Value::Null);
            let fallback = args.pop().unwrap_or(Value::Null);
            Ok(match &given {
                Value::Null => fallback,
                Value::String(s) if s.is_empty() => fallback,
                _ => given,
            })
        }
        "toYaml" => {
            want(name, &args, 1)?;
            Ok(Value::String(to_yaml(&args[0])))
        }
        "nindent" => {
            want(name, &args, 2)?;
            let pad = " ".repeat(as_int(name, &args[0])?);
            let lines: Vec<String> = as_str(&args[1])?
                .split('\n')
                .map(|l| {
                    if l.is_empty() {
                        String::new()
                    } else {
                        format!("{pad}{l}")
                    }
                })
                .collect();
            Ok(Value::String(format!("\n{}", lines.join("\n"))))
        }
        "indent" => {
            want(name, &args, 2)?;
            let pad = " ".repeat(as_int(name, &args[0])?);
            let text = as_str(&args[1])?;
            Ok(Value::String(format!(
                "{pad}{}",
                text.replace('\n', &format!("\n{pad}"))
            )))
        }
        "quote" => {
            let parts: Vec<String> = args
                .iter()
                .filter(|a| !a.is_null())
                .map(|a| go_quote(&go_sprint(a)))
                .collect();
            Ok(Value::String(parts.join(" ")))
        }
        "required" => {
            want(name, &args, 2)?;
            match &args[1] {
                Value::Null => Err(go_sprint(&args[0])),
                Value::String(s) if s.is_empty() => Err(go_sprint(&args[0])),
                v => Ok(v.clone()),
            }
        }
        "empty" => {
            want(name, &args, 1)?;
            Ok(Value::Bool(!truth(&args[0])))
        }
        other => Err(format!("function {other:?} not defined")),
    }
}

/// Go's `index item keys...`.
fn index(args: Vec<Value>) -> Result<Value, String> {
    let mut args = args.into_iter();
    let mut item = args
        .next()
        .ok_or("wrong number of args for index: want at least 1 got 0")?;
    for key in args {
        item = match (&item, &key) {
            (Value::Null, _) => return Err("index of untyped nil".into()),
            (Value::Object(map), Value::String(k)) => map.get(k).cloned().unwrap_or(Value::Null),
            (Value::Object(_), other) => {
                return Err(format!(
                    "value has type {}; should be string",
                    type_name(other)
                ));
            }
            (Value::Array(items), Value::Number(n)) if !n.is_f64() => {
                let i = n.as_i64().unwrap_or(-1);
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i).cloned())
                    .ok_or_else(|| format!("index out of range: {i}"))?
            }
            (Value::Array(_), other) => {
                return Err(format!(
                    "cannot index slice/array with type {}",
                    type_name(other)
                ));
            }
            (other, _) => return Err(format!("can't index item of type {}", type_name(other))),
        };
    }
    Ok(item)
}

/// Go's `%q` of a string.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1_000_000.0), "1e+06");
        assert_eq!(go_float(123_456.0), "123456");
        assert_eq!(go_float(1_234_567.5), "1.2345675e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.25), "-2.25");
    }

    #[test]
    fn sprint_matches_go_percent_v() {
        assert_eq!(go_sprint(&json!(null)), "<nil>");
        assert_eq!(
            go_sprint(&json!({"b": 1, "a": [true, null]})),
            "map[a:[true <nil>] b:1]"
        );
    }

    #[test]
    fn eq_rejects_mixed_kinds_but_allows_nil() {
        assert_eq!(go_eq(&json!(null), &json!("x")), Ok(false));
        assert!(go_eq(&json!(1), &json!("1")).is_err());
        assert_eq!(go_eq(&json!(1), &json!(1)), Ok(true));
    }

    #[test]
    fn default_replaces_only_nil_and_empty_string() {
        let d = |given: Value| call("default", vec![json!("d"), given]).unwrap();
        assert_eq!(d(json!(null)), json!("d"));
        assert_eq!(d(json!("")), json!("d"));
        assert_eq!(d(json!(false)), json!(false));
        assert_eq!(d(json!(0)), json!(0));
    }

    #[test]
    fn indent_functions_differ_on_empty_lines() {
        let n = call("nindent", vec![json!(2), json!("a\n\nb")]).unwrap();
        assert_eq!(n, json!("\n  a\n\n  b"));
        let i = call("indent", vec![json!(2), json!("a\n\nb")]).unwrap();
        assert_eq!(i, json!("  a\n  \n  b"));
    }

    #[test]
    fn quote_required_empty_and_index() {
        assert_eq!(
            call("quote", vec![json!("a\"b"), json!(1)]).unwrap(),
            json!("\"a\\\"b\" \"1\"")
        );
        assert_eq!(
            call("required", vec![json!("need x"), json!(null)]),
            Err("need x".into())
        );
        assert_eq!(call("empty", vec![json!({})]).unwrap(), json!(true));
        assert_eq!(
            call("index", vec![json!({"a": [1, 2]}), json!("a"), json!(1)]).unwrap(),
            json!(2)
        );
        assert_eq!(
            call("index", vec![json!({}), json!("zz")]).unwrap(),
            json!(null)
        );
        assert!(call("index", vec![json!(null), json!("a")]).is_err());
    }
}
