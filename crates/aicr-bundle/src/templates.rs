//! Our own prose and scripts (READMEs, deploy/undeploy/install scripts) as
//! minijinja templates compiled into the crate.

use std::sync::OnceLock;

use minijinja::Environment;
use serde::Serialize;

use aicr_core::error::{Error, Result};

use crate::yamlout::shell_quote;

/// The license comment block of generated charts and scripts.
pub const LICENSE_HEADER: &str = include_str!("../templates/license.txt");

const TEMPLATES: [(&str, &str); 10] = [
    (
        "install-vendored.sh",
        include_str!("../templates/install-vendored.sh.j2"),
    ),
    (
        "install-upstream.sh",
        include_str!("../templates/install-upstream.sh.j2"),
    ),
    (
        "install-local.sh",
        include_str!("../templates/install-local.sh.j2"),
    ),
    ("deploy.sh", include_str!("../templates/deploy.sh.j2")),
    ("undeploy.sh", include_str!("../templates/undeploy.sh.j2")),
    (
        "README-helm.md",
        include_str!("../templates/README-helm.md.j2"),
    ),
    (
        "README-helmfile.md",
        include_str!("../templates/README-helmfile.md.j2"),
    ),
    (
        "README-argocd.md",
        include_str!("../templates/README-argocd.md.j2"),
    ),
    (
        "README-argocd-helm.md",
        include_str!("../templates/README-argocd-helm.md.j2"),
    ),
    (
        "README-flux.md",
        include_str!("../templates/README-flux.md.j2"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        env.add_global("license", LICENSE_HEADER.trim_end());
        env.add_filter("sh", |text: String| shell_quote(&text));
        // Compiled when first asked for: a bundle uses a few of them.
        env.set_loader(|name| {
            Ok(TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, source)| source.to_string()))
        });
        env
    })
}

/// Renders the named template with `context`.
pub fn render(name: &str, context: impl Serialize) -> Result<String> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|e| Error::internal(format!("rendering template {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_renders() {
        let folder =
            json!({"dir": "001-a", "name": "a", "namespace": "n", "chart": "c", "version": "1"});
        let ctx = json!({
            "release": "a", "namespace": "n", "create_namespace": true, "version": "dev",
            "folders": [folder], "namespaces": ["n"], "crd_groups": "", "repo": "r",
            "revision": "main", "dynamic": ["k.p"], "criteria": "",
        });
        for (name, _) in TEMPLATES {
            let text = render(name, &ctx).unwrap();
            assert!(!text.is_empty(), "{name}");
        }
    }
}
