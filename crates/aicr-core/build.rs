//! Embeds the catalog in `recipes/` at compile time as a sorted list of
//! (relative path, bytes, digest), so the binary needs no files at run
//! time. The digest is the YAML document pre-parsed into JSON: parsing JSON
//! at start-up is several times cheaper than parsing YAML, and start-up is
//! most of what `aicr recipe` costs.

// A build script reads OUT_DIR from the environment and writes its
// generated file there; the clippy.toml rules are for library code.
#![allow(clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        collect(&root, &root, &mut files);
    }
    files.sort();
    let mut out = String::from(
        "/// Every catalog file, sorted by path, with its JSON digest.\npub static FILES: &[(&str, &[u8], Option<&str>)] = &[\n",
    );
    for (rel, abs) in &files {
        let digest = digest(abs);
        writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?}), {digest:?}),",
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded_catalog.rs");
    std::fs::write(dest, out).unwrap();
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, files);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            files.push((rel, path.canonicalize().unwrap()));
        }
    }
}

/// The file as JSON text, when it is one YAML document of data (manifests
/// that are Helm templates are not, and stay text only).
fn digest(path: &Path) -> Option<String> {
    let is_yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    if !is_yaml {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_saphyr::from_str(&text).ok()?;
    serde_json::to_string(&value).ok()
}
