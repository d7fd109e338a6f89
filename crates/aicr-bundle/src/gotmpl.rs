//! A small interpreter for the subset of Go `text/template` (with the
//! Helm/Sprig functions) that catalog manifests use, so local-chart
//! templates can be rendered at bundle time as the reference does.
//!
//! ```
//! use serde_json::json;
//! let data = json!({"Values": {"app": {"replicas": 3}}, "Release": {"Namespace": "ns"}});
//! let text = "{{- $app := index .Values \"app\" }}\nreplicas: {{ $app.replicas }}\nns: {{ .Release.Namespace }}";
//! let out = aicr_bundle::gotmpl::render(text, &data).unwrap();
//! assert_eq!(out, "\nreplicas: 3\nns: ns");
//! ```
//!
//! Semantics, where Go and Helm differ from each other: a missing map key
//! (and a field of nil) evaluates to nil without error, as Go's default
//! `missingkey` mode does for the chains the reference renders; nil prints
//! as nothing (Helm strips `<no value>`). The function semantics are in
//! [`funcs`].

mod funcs;
mod parse;
mod toyaml;

use std::borrow::Cow;

use serde_json::Value;

use aicr_core::error::{Error, Result};

use parse::{Branch, Node, Operand, Pipe, Term};

/// Renders `template` with `data` (`{"Values": ..., "Release": ..., "Chart": ...}`).
pub fn render(template: &str, data: &Value) -> Result<String> {
    let nodes = parse::parse(template)
        .map_err(|e| Error::invalid(format!("template: line {}: {}", e.line, e.message)))?;
    let mut state = State {
        vars: vec![("$".to_string(), Cow::Borrowed(data))],
        out: String::new(),
        depth: 0,
        steps: 0,
    };
    state
        .walk(&nodes, data)
        .map_err(|(line, msg)| Error::invalid(format!("template: line {line}: {msg}")))?;
    Ok(state.out)
}

/// The line of a node, for messages (text has none of its own).
fn node_line(node: &Node) -> usize {
    match node {
        Node::Text(_) => 0,
        Node::Action(pipe) => pipe.line,
        Node::If(b) | Node::With(b) | Node::Range(b) => b.pipe.line,
    }
}

/// An execution failure: line and message.
type Failure = (usize, String);
type EResult<T> = std::result::Result<T, Failure>;

/// Bounds recursion through nested sub-expressions and control structures.
const MAX_DEPTH: usize = 200;

/// Bounds the work of one template (nodes visited plus loop iterations):
/// far above any catalog manifest, low enough that a hostile one cannot
/// run for minutes.
const MAX_STEPS: u64 = 2_000_000;

/// Bounds what one template may write (a catalog manifest is kilobytes).
const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// `$` borrows the data; variables a template sets are owned.
struct State<'d> {
    vars: Vec<(String, Cow<'d, Value>)>,
    out: String,
    depth: usize,
    steps: u64,
}

impl State<'_> {
    /// Counts one unit of work and checks the output size.
    fn step(&mut self, line: usize) -> EResult<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err((line, format!("template does more than {MAX_STEPS} steps")));
        }
        if self.out.len() > MAX_OUTPUT {
            return Err((
                line,
                format!("template writes more than {MAX_OUTPUT} bytes"),
            ));
        }
        Ok(())
    }

    fn walk(&mut self, nodes: &[Node], dot: &Value) -> EResult<()> {
        for node in nodes {
            self.step(node_line(node))?;
            match node {
                Node::Text(text) => self.out.push_str(text),
                Node::Action(pipe) => {
                    let value = self.pipe(pipe, dot)?;
                    if pipe.decl.is_empty() {
                        print(&mut self.out, &value);
                    }
                }
                Node::If(b) => self.if_or_with(b, dot, false)?,
                Node::With(b) => self.if_or_with(b, dot, true)?,
                Node::Range(b) => self.range(b, dot)?,
            }
        }
        Ok(())
    }

    fn nested<T>(&mut self, line: usize, f: impl FnOnce(&mut Self) -> EResult<T>) -> EResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err((line, "exceeded maximum template depth".into()));
        }
        let mark = self.vars.len();
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        self.vars.truncate(mark);
        result
    }

    fn if_or_with(&mut self, b: &Branch, dot: &Value, is_with: bool) -> EResult<()> {
        self.nested(b.pipe.line, |s| {
            let value = s.pipe(&b.pipe, dot)?;
            if funcs::truth(&value) {
                s.walk(&b.body, if is_with { &value } else { dot })
            } else {
                s.walk(&b.otherwise, dot)
            }
        })
    }

    fn range(&mut self, b: &Branch, dot: &Value) -> EResult<()> {
        self.nested(b.pipe.line, |s| {
            let bare = Pipe {
                decl: Vec::new(),
                ..b.pipe.clone()
            };
            let value = s.pipe(&bare, dot)?;
            let items: Vec<(Value, Value)> = match value {
                Value::Array(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (Value::from(i), v))
                    .collect(),
                Value::Object(map) => {
                    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    entries
                        .into_iter()
                        .map(|(k, v)| (Value::String(k), v))
                        .collect()
                }
                Value::Null => Vec::new(),
                Value::Number(n) if n.as_u64().is_some() => {
                    let count = n.as_u64().unwrap_or(0);
                    if count > MAX_STEPS {
                        return Err((
                            b.pipe.line,
                            format!("range over {count} exceeds {MAX_STEPS} steps"),
                        ));
                    }
                    (0..count)
                        .map(|i| (Value::from(i), Value::from(i)))
                        .collect()
                }
                other => {
                    return Err((
                        b.pipe.line,
                        format!("range can't iterate over {}", funcs::go_sprint(&other)),
                    ));
                }
            };
            if items.is_empty() {
                return s.walk(&b.otherwise, dot);
            }
            for (key, item) in items {
                s.step(b.pipe.line)?;
                let mark = s.vars.len();
                match b.pipe.decl.as_slice() {
                    [elem] => s.vars.push((elem.clone(), Cow::Owned(item.clone()))),
                    [k, elem] => {
                        s.vars.push((k.clone(), Cow::Owned(key)));
                        s.vars.push((elem.clone(), Cow::Owned(item.clone())));
                    }
                    _ => {}
                }
                s.walk(&b.body, &item)?;
                s.vars.truncate(mark);
            }
            Ok(())
        })
    }

    fn pipe(&mut self, pipe: &Pipe, dot: &Value) -> EResult<Value> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(cmd, dot, value, pipe.line)?);
        }
        let value = value.unwrap_or(Value::Null);
        for name in &pipe.decl {
            if pipe.is_assign {
                let slot = self
                    .vars
                    .iter_mut()
                    .rev()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| (pipe.line, format!("undefined variable: {name}")))?;
                slot.1 = Cow::Owned(value.clone());
            } else {
                self.vars.push((name.clone(), Cow::Owned(value.clone())));
            }
        }
        Ok(value)
    }

    fn command(
        &mut self,
        cmd: &[Operand],
        dot: &Value,
        piped: Option<Value>,
        line: usize,
    ) -> EResult<Value> {
        if let Term::Func(name) = &cmd[0].term
            && cmd[0].fields.is_empty()
        {
            return self.call(name, &cmd[1..], dot, piped, line);
        }
        if cmd.len() > 1 || piped.is_some() {
            return Err((line, "can't give argument to non-function".into()));
        }
        self.operand(&cmd[0], dot, line)
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Operand],
        dot: &Value,
        piped: Option<Value>,
        line: usize,
    ) -> EResult<Value> {
        if funcs::LAZY.contains(&name) {
            if args.is_empty() && piped.is_none() {
                return Err((
                    line,
                    format!("wrong number of args for {name}: want at least 1 got 0"),
                ));
            }
            let want = name == "or";
            let mut last = Value::Null;
            for arg in args {
                last = self.operand(arg, dot, line)?;
                if funcs::truth(&last) == want {
                    return Ok(last);
                }
            }
            return Ok(piped.unwrap_or(last));
        }
        let mut values = Vec::with_capacity(args.len() + 1);
        for arg in args {
            values.push(self.operand(arg, dot, line)?);
        }
        values.extend(piped);
        funcs::call(name, values).map_err(|msg| (line, format!("error calling {name}: {msg}")))
    }

    fn operand(&mut self, op: &Operand, dot: &Value, line: usize) -> EResult<Value> {
        // Dot and variables are walked by reference: `.Values.a.b` copies
        // only what it ends at, not all the values.
        let owned = match &op.term {
            Term::Dot => return Ok(fields(dot, &op.fields, line)?.clone()),
            Term::Var(name) => {
                let value = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_ref())
                    .ok_or_else(|| (line, format!("undefined variable: {name}")))?;
                return Ok(fields(value, &op.fields, line)?.clone());
            }
            Term::Lit(v) => v.clone(),
            Term::Sub(pipe) => self.nested(line, |s| s.pipe(pipe, dot))?,
            Term::Func(name) => self.call(name, &[], dot, None, line)?,
        };
        Ok(fields(&owned, &op.fields, line)?.clone())
    }
}

/// Follows a chain of `.field` lookups: a missing key or nil gives nil, a
/// field of anything but a map is an error.
fn fields<'v>(mut value: &'v Value, names: &[String], line: usize) -> EResult<&'v Value> {
    static NULL: Value = Value::Null;
    for field in names {
        value = match value {
            Value::Object(map) => map.get(field).unwrap_or(&NULL),
            Value::Null => &NULL,
            other => {
                return Err((
                    line,
                    format!(
                        "can't evaluate field {field} in type {}",
                        funcs::type_name(other)
                    ),
                ));
            }
        };
    }
    Ok(value)
}

/// Prints an action's value: nil as nothing, everything else as Go's `%v`.
fn print(out: &mut String, value: &Value) {
    if !value.is_null() {
        out.push_str(&funcs::go_sprint(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, data: Value) -> String {
        render(t, &data).unwrap_or_else(|e| panic!("{t:?}: {e}"))
    }

    fn err(t: &str, data: Value) -> String {
        render(t, &data).unwrap_err().to_string()
    }

    #[test]
    fn text_without_actions_is_copied() {
        assert_eq!(r("a: b\n  c\n", json!({})), "a: b\n  c\n");
    }

    #[test]
    fn trim_markers_eat_all_adjacent_whitespace() {
        assert_eq!(r("a  \n\n {{- \"x\" -}} \n\t b", json!({})), "axb");
        assert_eq!(r("a {{ \"x\" }} b", json!({})), "a x b");
        assert_eq!(r("a {{- 3 }}", json!({})), "a3");
        // `{{-3}}` is the number -3, not a trim marker.
        assert_eq!(r("a {{-3}}", json!({})), "a -3");
    }

    #[test]
    fn comments_print_nothing() {
        assert_eq!(r("a\n{{- /* note */ -}}\nb", json!({})), "ab");
        assert_eq!(r("a{{/* x }} y */}}b", json!({})), "ab");
    }

    #[test]
    fn field_chains_and_missing_keys() {
        let d = json!({"Values": {"a": {"b": "c"}}});
        assert_eq!(r("{{ .Values.a.b }}", d.clone()), "c");
        assert_eq!(r("[{{ .Values.x.y.z }}]", d.clone()), "[]");
        assert_eq!(r("{{ .Values.a }}", d.clone()), "map[b:c]");
        assert!(err("{{ .Values.a.b.c }}", d).contains("can't evaluate field c in type string"));
    }

    #[test]
    fn variables_are_scoped_to_their_block() {
        let d = json!({"Values": {"c": {"x": 1}}});
        let t =
            "{{- $c := index .Values \"c\" }}{{ $c.x }}{{ if true }}{{ $y := 2 }}{{ $y }}{{ end }}";
        assert_eq!(r(t, d.clone()), "12");
        assert!(
            err("{{ if true }}{{ $y := 2 }}{{ end }}{{ $y }}", d.clone())
                .contains("undefined variable: $y")
        );
        assert_eq!(
            r(
                "{{ $a := 1 }}{{ if true }}{{ $a = 2 }}{{ end }}{{ $a }}",
                d.clone()
            ),
            "2"
        );
        assert_eq!(r("{{ $.Values.c.x }}", d), "1");
    }

    #[test]
    fn if_else_if_else() {
        let t = "{{ if eq .n 1 }}one{{ else if eq .n 2 }}two{{ else }}many{{ end }}";
        assert_eq!(r(t, json!({"n": 1})), "one");
        assert_eq!(r(t, json!({"n": 2})), "two");
        assert_eq!(r(t, json!({"n": 3})), "many");
    }

    #[test]
    fn truthiness_follows_go() {
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert_eq!(
                r("{{ if .v }}y{{ else }}n{{ end }}", json!({ "v": falsy })),
                "n"
            );
        }
        assert_eq!(r("{{ if .v }}y{{ end }}", json!({"v": [0]})), "y");
    }

    #[test]
    fn with_changes_dot_and_has_else() {
        let t = "{{ with .a }}{{ .b }}{{ else }}none{{ end }}";
        assert_eq!(r(t, json!({"a": {"b": "x"}})), "x");
        assert_eq!(r(t, json!({})), "none");
        let chained = "{{ with .a }}A{{ else with .b }}{{ . }}{{ end }}";
        assert_eq!(r(chained, json!({"b": "B"})), "B");
    }

    #[test]
    fn range_over_lists_maps_and_nothing() {
        let d = json!({"l": ["a", "b"], "m": {"z": 1, "y": 2}});
        assert_eq!(r("{{ range .l }}{{ . }},{{ end }}", d.clone()), "a,b,");
        assert_eq!(
            r(
                "{{ range $i, $v := .l }}{{ $i }}={{ $v }} {{ end }}",
                d.clone()
            ),
            "0=a 1=b "
        );
        assert_eq!(
            r(
                "{{ range $k, $v := .m }}{{ $k }}{{ $v }}{{ end }}",
                d.clone()
            ),
            "y2z1"
        );
        assert_eq!(r("{{ range .none }}x{{ else }}empty{{ end }}", d), "empty");
    }

    #[test]
    fn pipelines_and_parentheses() {
        let d = json!({"v": {"flag": false, "s": "on"}});
        assert_eq!(r("{{ .v.missing | default \"d\" }}", d.clone()), "d");
        assert_eq!(
            r(
                "{{ ne (toString (index .v \"flag\")) \"false\" }}",
                d.clone()
            ),
            "false"
        );
        assert_eq!(
            r(
                "{{ ne (toString (.v.auto | default true)) \"false\" }}",
                d.clone()
            ),
            "true"
        );
        assert_eq!(r("{{ (index .v \"s\") | quote }}", d.clone()), "\"on\"");
        assert_eq!(r("{{ (.v).s }}", d), "on");
    }

    #[test]
    fn and_or_short_circuit_and_return_operands() {
        let d = json!({"a": null, "b": "x"});
        // `.a.q.r` would not fail anyway, but `index .a "k"` would: it must not run.
        assert_eq!(r("{{ and .a (index .a \"k\") }}", d.clone()), "");
        assert_eq!(r("{{ or .a .b }}", d.clone()), "x");
        assert_eq!(r("{{ and .b 0 }}", d.clone()), "0");
        assert_eq!(r("{{ not .a }}", d), "true");
    }

    #[test]
    fn to_yaml_with_nindent_in_a_manifest() {
        let d = json!({"Values": {"c": {"tol": [{"key": "k", "operator": "Exists"}]}}});
        let t = "spec:\n  tolerations:\n    {{- toYaml .Values.c.tol | nindent 4 }}\n";
        assert_eq!(
            r(t, d),
            "spec:\n  tolerations:\n    - key: k\n      operator: Exists\n"
        );
    }

    #[test]
    fn required_fails_with_its_message() {
        assert!(err("{{ required \"x is required\" .x }}", json!({})).contains("x is required"));
        assert_eq!(r("{{ required \"m\" .x }}", json!({"x": 1})), "1");
        assert_eq!(r("{{ indent 2 \"a\\nb\" }}", json!({})), "  a\n  b");
        assert_eq!(r("{{ empty .x }}", json!({})), "true");
    }

    #[test]
    fn malformed_templates_are_errors_with_lines() {
        assert!(err("a\n{{ if .x }}", json!({})).contains("line 2"));
        assert!(err("{{ end }}", json!({})).contains("unexpected {{end}}"));
        assert!(err("{{ nosuch 1 }}", json!({})).contains("not defined"));
        assert!(err("{{ .a", json!({})).contains("unclosed action"));
        assert!(err("{{ \"x }}", json!({})).contains("unterminated"));
        assert!(err("{{ .a 1 }}", json!({})).contains("non-function"));
        assert!(err("{{ ( }}", json!({})).contains("line 1"));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let t = format!("{{{{ {}1{} }}}}", "(".repeat(300), ")".repeat(300));
        assert!(err(&t, json!({})).contains("too deeply"));
        let t = format!("{}{}", "{{ if 1 }}".repeat(300), "{{ end }}".repeat(300));
        assert!(err(&t, json!({})).contains("too deeply"));
    }
}
