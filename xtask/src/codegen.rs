//! `cargo xtask codegen [--check]`: writes the JSON Schemas of our document
//! kinds to `schemas/`; with `--check`, writes nothing and fails naming the
//! files that differ from what the types generate.

use anyhow::{Context, Result, bail};

use aicr_core::schema;

pub fn run(args: &[String]) -> Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask codegen [--check]"),
    };
    let dir = crate::root().join("schemas");
    let mut stale = Vec::new();
    let mut files: Vec<(&str, String)> = schema::all()
        .into_iter()
        .map(|f| (f.name, f.text))
        .collect();
    files.push(("aicrd.openapi.json", aicr_server::openapi()));
    for (name, text) in files {
        let path = dir.join(name);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(format!("schemas/{name}"));
        } else {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote schemas/{name}");
        }
    }
    if !stale.is_empty() {
        bail!(
            "stale generated files (run `cargo xtask codegen`): {}",
            stale.join(", ")
        );
    }
    Ok(())
}
