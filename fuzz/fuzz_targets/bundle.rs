//! Fuzzes the bundle path: a recipe document, parsed as `aicr bundle -r`
//! parses it, rendered by every deployer. Nothing panics, and whatever renders
//! holds only identifiers that are safe on a command line and YAML that
//! parses back, so no recipe value can reach a shell or add a document.
#![no_main]

use std::sync::OnceLock;

use aicr_bundle::{BundleOptions, Deployer};
use aicr_core::catalog::FetchedFiles;
use aicr_core::{Components, EmbeddedProvider, RecipeResult};
use libfuzzer_sys::fuzz_target;


fn catalog() -> &'static Components {
    static CATALOG: OnceLock<Components> = OnceLock::new();
    CATALOG.get_or_init(|| Components::load(Box::new(EmbeddedProvider)).expect("the embedded catalog loads"))
}

/// An oracle written apart from `aicr_core::ident`: the characters a
/// bundled identifier may hold. None of them means anything to a shell.
fn shell_inert(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._+/:@~=%".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    // As `aicr bundle -r` reads a recipe; `bundle` checks identifiers.
    let Ok(recipe) = aicr_core::yaml::parse::<RecipeResult>(data, "fuzz") else {
        return;
    };
    for deployer in Deployer::ALL {
        let options = BundleOptions {
            deployer,
            repo: Some("https://git.example.com/org/gitops.git".into()),
            tool_version: "fuzz".into(),
            ..BundleOptions::default()
        };
        let Ok(tree) = aicr_bundle::bundle(catalog(), &recipe, &options, &FetchedFiles::default()) else {
            continue;
        };
        for c in &recipe.component_refs {
            for field in [&c.name, &c.namespace, &c.chart, &c.version] {
                assert!(field.is_empty() || shell_inert(field), "{field:?} was bundled");
            }
            assert!(shell_inert(&c.name) && shell_inert(&c.namespace));
        }
        for (path, file) in tree.iter() {
            if path.ends_with("values.yaml") {
                let text = std::str::from_utf8(&file.bytes).expect("values are UTF-8");
                let parsed: Result<serde_json::Value, _> = serde_saphyr::from_str(text);
                assert!(parsed.is_ok(), "{path} does not parse back: {text}");
            }
        }
    }
});
