//! Identifiers that reach shell scripts and Kubernetes objects, checked
//! when a recipe is loaded. Bundles quote every interpolation as well; this
//! is the first line: a recipe whose component is named `x$(touch P)` or
//! whose namespace holds a newline never gets as far as a script.

use serde_json::Value;

use crate::error::{Error, Result, escape};
use crate::recipe::RecipeResult;

/// How many problems a message names before counting the rest.
const SHOWN: usize = 10;

/// A DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 bytes):
/// what Kubernetes accepts for namespaces and Helm for release names.
pub fn is_dns_label(text: &str) -> bool {
    let b = text.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A chart name, version or tag: letters, digits and `._+-/`, not
/// starting with `-` (so it can never read as a flag).
pub fn is_plain_token(text: &str) -> bool {
    !text.starts_with('-')
        && text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"._+-/".contains(&c))
}

/// A chart repository: `https://`, `http://` or `oci://`, with only the
/// characters real repository URLs use.
fn is_repository_url(text: &str) -> bool {
    let has_scheme = ["https://", "http://", "oci://"]
        .iter()
        .any(|s| text.len() > s.len() && text.starts_with(s));
    has_scheme
        && text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~:/?#@%+=,".contains(&c))
}

/// Control characters other than the line breaks and tabs a multi-line
/// Helm value may hold.
fn has_bad_control(text: &str) -> bool {
    // Control characters are U+0000-U+001F and U+007F-U+009F; the last
    // are encoded in UTF-8 as 0xC2 0x80-0x9F. Bytes are faster than chars.
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'\n' | b'\r' | b'\t' => false,
        0..=0x1f | 0x7f => true,
        0xc2 => matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
        _ => false,
    })
}

/// Checks every identifier of `recipe` that a bundle interpolates, and
/// every string in it for control characters; the error names the first
/// problems and counts the rest.
pub fn check_recipe(recipe: &RecipeResult, origin: &str) -> Result<()> {
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, c) in recipe.component_refs.iter().enumerate() {
        let at = format!("componentRefs[{i}]");
        if !is_dns_label(&c.name) {
            problems.push(format!(
                "{at}.name {:?} is not a DNS-1123 label (lowercase letters, digits and '-', at most 63)",
                escape(&c.name)
            ));
        } else if !seen.insert(c.name.as_str()) {
            problems.push(format!("{at}.name {:?} is used twice", c.name));
        }
        if !is_dns_label(&c.namespace) {
            problems.push(format!(
                "{at}.namespace {:?} is not a DNS-1123 label",
                escape(&c.namespace)
            ));
        }
        for (field, value) in [
            ("chart", &c.chart),
            ("version", &c.version),
            ("tag", &c.tag),
        ] {
            if !value.is_empty() && !is_plain_token(value) {
                problems.push(format!(
                    "{at}.{field} {:?} may hold only letters, digits and ._+-/",
                    escape(value)
                ));
            }
        }
        if !c.source.is_empty() && !is_repository_url(&c.source) {
            problems.push(format!(
                "{at}.source {:?} is not an https://, http:// or oci:// repository URL",
                escape(&c.source)
            ));
        }
        for dep in &c.dependency_refs {
            if !is_dns_label(dep) {
                problems.push(format!(
                    "{at}.dependencyRefs entry {:?} is not a component name",
                    escape(dep)
                ));
            }
        }
    }
    for name in &recipe.deployment_order {
        if !is_dns_label(name) {
            problems.push(format!(
                "deploymentOrder entry {:?} is not a component name",
                escape(name)
            ));
        }
    }
    // Serialising without building a tree is cheap; only a recipe that
    // holds a control character is converted to name where.
    if holds_control_character(recipe) {
        control_characters(&crate::yaml::to_value(recipe), "", &mut problems);
    }
    if problems.is_empty() {
        return Ok(());
    }
    let total = problems.len();
    problems.truncate(SHOWN);
    let more = match total.saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!("; and {n} more"),
    };
    Err(Error::invalid(format!(
        "{origin}: {}{more}",
        problems.join("; ")
    )))
}

/// Whether any key or string of `recipe` holds a control character other
/// than a line break or tab. JSON escapes every C0 control and leaves DEL
/// and the C1 controls in the text, so escapes and fragments together
/// see them all.
fn holds_control_character(recipe: &RecipeResult) -> bool {
    use serde_json::ser::{CharEscape, Formatter};
    /// Keys may hold no control character at all; strings may hold line
    /// breaks and tabs.
    struct Finder<'a> {
        found: &'a mut bool,
        in_key: bool,
    }
    impl Formatter for Finder<'_> {
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            _: &mut W,
            _: bool,
        ) -> std::io::Result<()> {
            self.in_key = true;
            Ok(())
        }
        fn end_object_key<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
            self.in_key = false;
            Ok(())
        }
        fn write_string_fragment<W: ?Sized + std::io::Write>(
            &mut self,
            _: &mut W,
            fragment: &str,
        ) -> std::io::Result<()> {
            if has_bad_control(fragment) {
                *self.found = true;
            }
            Ok(())
        }
        fn write_char_escape<W: ?Sized + std::io::Write>(
            &mut self,
            _: &mut W,
            escape: CharEscape,
        ) -> std::io::Result<()> {
            let allowed_in_strings = matches!(
                escape,
                CharEscape::LineFeed | CharEscape::CarriageReturn | CharEscape::Tab
            );
            let printable = matches!(
                escape,
                CharEscape::Quote | CharEscape::ReverseSolidus | CharEscape::Solidus
            );
            if !printable && (self.in_key || !allowed_in_strings) {
                *self.found = true;
            }
            Ok(())
        }
    }
    let mut found = false;
    let finder = Finder {
        found: &mut found,
        in_key: false,
    };
    let mut serializer = serde_json::Serializer::with_formatter(std::io::sink(), finder);
    // Serialising our own types into a sink cannot fail; if it ever did,
    // take the thorough path.
    if serde::Serialize::serialize(recipe, &mut serializer).is_err() {
        return true;
    }
    found
}

/// Records every key or string under `value` that holds a control
/// character a script or manifest could be broken by.
fn control_characters(value: &Value, at: &str, problems: &mut Vec<String>) {
    match value {
        Value::String(s) if has_bad_control(s) => {
            problems.push(format!("{at} holds a control character"));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(item, &format!("{at}[{i}]"), problems);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                if k.chars().any(char::is_control) {
                    problems.push(format!("key {:?} holds a control character", escape(&path)));
                }
                control_characters(v, &path, problems);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels_are_what_kubernetes_accepts() {
        for good in ["a", "gpu-operator", "x1", &"a".repeat(63)] {
            assert!(is_dns_label(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a_b",
            "a.b",
            "x$(touch P)",
            "a\nb",
            &"a".repeat(64),
        ] {
            assert!(!is_dns_label(bad), "{bad:?}");
        }
    }

    #[test]
    fn repository_urls_need_a_scheme_and_plain_characters() {
        assert!(is_repository_url("https://helm.ngc.nvidia.com/nvidia"));
        assert!(is_repository_url("oci://ghcr.io/nvidia"));
        for bad in [
            "ftp://x",
            "https://",
            "https://x/$(id)",
            "https://x/`id`",
            "https://x y",
            "https://x/';id;'",
            "file:///etc",
        ] {
            assert!(!is_repository_url(bad), "{bad}");
        }
    }

    proptest::proptest! {
        /// The quick scan finds a control character exactly when the
        /// thorough walk does, in keys and in strings.
        #[test]
        fn the_quick_control_scan_agrees_with_the_walk(
            key in "[\\x00-\\x20\\x7e-\\xa0a-z]{1,4}",
            value in "[\\x00-\\x20\\x7e-\\xa0a-z]{0,4}",
        ) {
            let mut recipe: RecipeResult = crate::yaml::parse(
                b"apiVersion: aicr.nvidia.com/v1alpha1\nmetadata: {}\ncomponentRefs:\n- name: a\n  namespace: a\n",
                "test",
            )
            .unwrap();
            let mut inner = crate::model::Values::new();
            inner.insert(key.clone(), Value::String(value.clone()));
            recipe.component_refs[0].overrides.insert("x".into(), Value::Object(inner));
            let mut problems = Vec::new();
            control_characters(&crate::yaml::to_value(&recipe), "", &mut problems);
            proptest::prop_assert_eq!(holds_control_character(&recipe), !problems.is_empty());
        }
    }

    #[test]
    fn tokens_never_read_as_flags_or_commands() {
        assert!(is_plain_token("v0.1.0-alpha.6"));
        assert!(is_plain_token("580.126.20"));
        for bad in ["--set", "1;id", "$(id)", "a b", "1\n2"] {
            assert!(!is_plain_token(bad), "{bad:?}");
        }
    }
}
