//! Text as the reference's Go prints it, for readings that the reference
//! turns into text: `%v` of a float and `encoding/json` of a decoded JSON
//! value. Snapshots compare readings by this text, so it has to match.

use serde_json::Value;

pub(crate) use aicr_core::snapshot::go_float;

/// A float as Go's `encoding/json` writes it: plain between 1e-6 and
/// 1e21, else with an exponent whose leading zero is dropped (`1e-7`,
/// `1e+21`).
fn json_float(x: f64) -> String {
    let abs = x.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (mantissa, exp) = shortest_exponential(x);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{}", exp.unsigned_abs())
    } else {
        format!("{x}")
    }
}

/// The shortest round-trip mantissa (`-1.5`) and the decimal exponent.
fn shortest_exponential(x: f64) -> (String, i32) {
    let text = format!("{x:e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    (mantissa.to_string(), exp.parse().unwrap_or(0))
}

/// A JSON value as Go's `json.Marshal` writes a decoded value: compact,
/// object keys sorted by bytes, `<`, `>`, `&`, U+2028 and U+2029 escaped,
/// floats as [`json_float`]. Integers beyond `i64` are floats, as the
/// Kubernetes decoder reads them.
pub(crate) fn go_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(&json_float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_go_percent_v() {
        for (x, text) in [
            (3.25, "3.25"),
            (3.0, "3"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e100, "1e+100"),
            (0.0, "0"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(go_float(x), text, "{x:e}");
        }
    }

    #[test]
    fn json_is_compact_sorted_and_html_escaped_like_go() {
        let value = json!([{"b": 1, "a": "x<y&z>"}, 1.5, 3.0, 1e21, 1e-7, null, true, "\u{1}"]);
        assert_eq!(
            go_json(&value),
            r#"[{"a":"x\u003cy\u0026z\u003e","b":1},1.5,3,1e+21,1e-7,null,true,"\u0001"]"#
        );
    }

    #[test]
    fn json_integers_beyond_i64_are_floats_as_kubernetes_decodes_them() {
        let value: Value = serde_json::from_str("[18446744073709551615, -5]").unwrap();
        assert_eq!(go_json(&value), "[18446744073709552000,-5]");
    }
}
