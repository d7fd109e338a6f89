//! Embeds the catalog in `recipes/` at compile time as a sorted list of
//! (relative path, bytes, compact range), so the binary needs no files at
//! run time. The compact range locates the YAML document pre-parsed into
//! the compact binary form of `src/embedded.rs` within one blob: decoding
//! it is many times cheaper than parsing YAML (or JSON), and start-up is
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
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut blob = Vec::new();
    let mut out = String::from(
        "/// A catalog file: its path, its bytes and the range of its compact\n/// form in [`COMPACT`].\npub type Entry = (&'static str, &'static [u8], Option<(u32, u32)>);\n/// Every catalog file, sorted by path.\npub static FILES: &[Entry] = &[\n",
    );
    for (rel, abs) in &files {
        let range = parse(abs).map(|value| {
            let start = blob.len();
            encode(&value, &mut blob);
            (
                u32::try_from(start).unwrap(),
                u32::try_from(blob.len()).unwrap(),
            )
        });
        writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?}), {range:?}),",
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    out.push_str(
        "/// The pre-parsed documents, one after the other.\npub static COMPACT: &str = include_str!(concat!(env!(\"OUT_DIR\"), \"/catalog.bin\"));\n",
    );
    std::fs::write(out_dir.join("catalog.bin"), blob).unwrap();
    std::fs::write(out_dir.join("embedded_catalog.rs"), out).unwrap();
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

/// The file's data, when it is one YAML document of data (manifests that
/// are Helm templates are not, and stay text only).
fn parse(path: &Path) -> Option<serde_json::Value> {
    let is_yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    if !is_yaml {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    serde_saphyr::from_str(&text).ok()
}

// The compact form: its tags (documented where `src/embedded.rs` decodes
// them) and its encoder, shared with the decoder's tests.
include!("src/embedded/tags.rs");
include!("src/embedded/encode.rs");
