//! The dotted field path (`spec.componentRefs[2].valuesFile`) of a line in a
//! block-style YAML document, so a parser error that only knows its line
//! can name the field. Indentation-based: good for the block style the
//! catalog uses; flow collections and block scalars are not descended.

struct Frame {
    indent: usize,
    segment: String,
    item: Option<usize>,
}

/// The field path of the key on 1-based `line`, or of the closest key above.
pub fn at_line(text: &str, line: usize) -> String {
    let mut stack: Vec<Frame> = Vec::new();
    for raw in text.lines().take(line) {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut rest = trimmed;
        if rest == "-" || rest.starts_with("- ") {
            let mut next = 0;
            while let Some(top) = stack.last() {
                if top.indent < indent || (top.indent == indent && top.item.is_none()) {
                    break;
                }
                let top = stack.pop().expect("non-empty");
                if top.indent == indent {
                    next = top.item.map_or(0, |i| i + 1);
                }
            }
            stack.push(Frame {
                indent,
                segment: format!("[{next}]"),
                item: Some(next),
            });
            rest = rest[1..].trim_start();
            indent = raw.len() - rest.len();
            if rest.is_empty() {
                continue;
            }
        } else {
            while stack.last().is_some_and(|t| t.indent >= indent) {
                stack.pop();
            }
        }
        if let Some(key) = key_of(rest) {
            stack.push(Frame {
                indent,
                segment: key.to_string(),
                item: None,
            });
        }
    }
    let mut out = String::new();
    for frame in &stack {
        if frame.item.is_none() && !out.is_empty() {
            out.push('.');
        }
        out.push_str(&frame.segment);
    }
    out
}

/// The key of a `key: value` or `key:` line.
fn key_of(content: &str) -> Option<&str> {
    let colon = content
        .find(": ")
        .or_else(|| content.strip_suffix(':').map(str::len))?;
    let key = content[..colon]
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.starts_with(['[', '{'])).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
kind: RecipeMetadata
spec:
  base: eks
  criteria:
    service: eks
  componentRefs:
    - name: a
      valuesFile: x
    - name: b
      dependencyRefs:
        - a
      valueFile: y
  validation:
    deployment:
      checks:
      - one
      - two
";

    #[test]
    fn lines_map_to_dotted_paths() {
        assert_eq!(at_line(DOC, 1), "kind");
        assert_eq!(at_line(DOC, 5), "spec.criteria.service");
        assert_eq!(at_line(DOC, 8), "spec.componentRefs[0].valuesFile");
        assert_eq!(at_line(DOC, 9), "spec.componentRefs[1].name");
        assert_eq!(at_line(DOC, 11), "spec.componentRefs[1].dependencyRefs[0]");
        assert_eq!(at_line(DOC, 12), "spec.componentRefs[1].valueFile");
        assert_eq!(at_line(DOC, 17), "spec.validation.deployment.checks[1]");
    }
}
