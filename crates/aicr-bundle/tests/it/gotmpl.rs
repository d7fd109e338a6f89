//! The template renderer against the reference: every manifest template
//! the corpus bundles contain, rendered with the values of its case,
//! equals the reference's rendered file as data (after the reference's
//! removal of `helm.sh/hook*` annotations). The reference re-serialises
//! every rendered file while removing hooks (sequences re-indented, block
//! scalar styles changed), so the comparison is of data, not text.

use std::path::Path;

use serde_json::Value;

use aicr_bundle::gotmpl::render;
use aicr_bundle::prepare;
use aicr_test_support::{conformance_dir, yaml_docs};

use crate::corpus;

/// Drops `helm.sh/hook*` annotations, as the reference does after rendering.
fn strip_hooks(doc: &mut Value) {
    if let Some(annotations) = doc
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.retain(|k, _| !k.starts_with("helm.sh/hook"));
    }
}

/// Block scalars that end the file without a line break: YAML parsers
/// disagree on whether clip chomping adds one (go-yaml does not), so
/// trailing line breaks of strings are not compared.
fn trim_string_ends(v: &mut Value) {
    match v {
        Value::String(s) => {
            let len = s.trim_end_matches('\n').len();
            s.truncate(len);
        }
        Value::Array(items) => items.iter_mut().for_each(trim_string_ends),
        Value::Object(map) => map.values_mut().for_each(trim_string_ends),
        _ => {}
    }
}

fn has_objects(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "---"
    })
}

/// Checks one local-format case; returns how many templates were compared.
fn check_case(case: &Path, catalog: &aicr_core::Components) -> usize {
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let prepared = prepare(
        catalog,
        &corpus::recipe(case),
        &corpus::options(case),
        &Default::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: prepare: {e}"));
    let mut compared = 0;
    for c in &prepared.components {
        let data = aicr_bundle::localformat::template_data(c);
        for (phase, manifests) in [("pre", &c.pre_manifests), ("post", &c.manifests)] {
            for m in manifests {
                let rendered =
                    render(&m.text, &data).unwrap_or_else(|e| panic!("{name}: {}: {e}", m.path));
                let base = m.path.rsplit('/').next().unwrap();
                let folder_suffix = match (phase, c.has_source()) {
                    ("pre", _) => format!("-{}-pre", c.name()),
                    (_, true) => format!("-{}-post", c.name()),
                    (_, false) => format!("-{}", c.name()),
                };
                let expected = std::fs::read_dir(case.join("expected"))
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .find(|p| {
                        p.file_name()
                            .unwrap()
                            .to_string_lossy()
                            .ends_with(&folder_suffix)
                    })
                    .map(|dir| dir.join("templates").join(base))
                    .filter(|p| p.is_file());
                let Some(expected) = expected else {
                    assert!(
                        !has_objects(&rendered),
                        "{name}: {} renders objects but the reference wrote no file",
                        m.path
                    );
                    continue;
                };
                let want = std::fs::read_to_string(&expected).unwrap();
                let mut got = yaml_docs(&rendered, &m.path);
                got.iter_mut().for_each(strip_hooks);
                got.iter_mut().for_each(trim_string_ends);
                let mut want = yaml_docs(&want, &expected.display().to_string());
                want.iter_mut().for_each(trim_string_ends);
                assert_eq!(
                    got,
                    want,
                    "{name}: {} differs from {}",
                    m.path,
                    expected.display()
                );
                compared += 1;
            }
        }
    }
    compared
}

#[test]
fn every_corpus_manifest_renders_as_the_reference_rendered_it() {
    let Some(conformance) = conformance_dir() else {
        return;
    };
    let catalog = corpus::upstream_catalog(&conformance);
    let cases = corpus::cases(&conformance, |n| !n.ends_with("flux"));
    let mut total = 0;
    for case in &cases {
        total += check_case(case, &catalog);
    }
    assert!(total > 30, "only {total} templates compared");
    eprintln!(
        "compared {total} rendered templates in {} cases",
        cases.len()
    );
}

mod bounds {
    use aicr_bundle::gotmpl::render;
    use aicr_core::Code;
    use serde_json::json;

    fn refused(template: &str) {
        let err = render(template, &json!({"Values": {}})).unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest, "{template}: {err}");
    }

    #[test]
    fn huge_indents_are_refused() {
        refused(r#"{{ nindent 99999999999999 "x" }}"#);
        refused(r#"{{ indent 4096 "x" }}"#);
    }

    #[test]
    fn runaway_loops_are_refused() {
        refused("{{ range 99999999999 }}x{{ end }}");
        refused("{{ range 2000 }}{{ range 2000 }}x{{ end }}{{ end }}");
    }

    #[test]
    fn ordinary_templates_still_render() {
        let out = render(r#"{{ range 3 }}a{{ end }}{{ nindent 2 "b" }}"#, &json!({})).unwrap();
        assert_eq!(out, "aaa\n  b");
    }
}
