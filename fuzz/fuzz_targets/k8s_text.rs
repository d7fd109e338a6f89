//! Fuzzes the text parsers of the Kubernetes side: image references,
//! provider IDs and the agent's flag grammars (`--toleration`,
//! `--node-selector`, `--requests`/`--limits`). No input panics; an image
//! reading's name has no `/` and its tag no `:`; a provider is trimmed and
//! lower-case; a parsed toleration has a known operator and effect; a
//! resource list has no empty name.
#![no_main]

use aicr_collect::cluster::agent::{parse_node_selectors, parse_resource_list, parse_tolerations};
use aicr_collect::k8s::{image_name_and_tag, provider};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some((name, tag)) = image_name_and_tag(text) {
        assert!(!name.is_empty() && !name.contains('/'), "{name:?}");
        assert!(!tag.contains(':'), "{tag:?}");
    }
    let service = provider(text);
    assert_eq!(service.trim(), service);
    assert_eq!(service.to_lowercase(), service);

    let flags: Vec<String> = text.split('\n').map(String::from).collect();
    if let Ok(tolerations) = parse_tolerations(&flags) {
        for t in tolerations {
            assert!(matches!(t.operator.as_deref(), Some("Exists" | "Equal")), "{t:?}");
            assert!(matches!(
                t.effect.as_deref(),
                None | Some("NoSchedule" | "PreferNoSchedule" | "NoExecute")
            ));
        }
    }
    if let Ok(selectors) = parse_node_selectors(&flags) {
        assert!(selectors.len() <= flags.len());
    }
    if let Ok(resources) = parse_resource_list(text) {
        assert!(resources.keys().all(|k| !k.trim().is_empty()));
    }
});
