//! Helpers shared by the integration tests (and benches) of every crate in
//! the workspace: where the repository and the reference corpus are,
//! throw-away copies of the catalog, and reading and normalising outputs.
//!
//! A dev-dependency only (`publish = false`). It depends on no workspace
//! crate, so any crate's tests can use it without a cycle; helpers that
//! need our types stay in that crate's `tests/it/support.rs`.
//!
//! ```
//! use aicr_test_support::conformance_dir;
//!
//! // `None`, with the reason on stderr, when `../shared` is absent.
//! let Some(dir) = conformance_dir() else { return };
//! assert!(dir.ends_with("conformance"));
//! ```

// Tests may write files, read the environment and spawn processes; the
// clippy.toml rules are for library code.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Our catalog, `recipes/`.
pub fn recipes_dir() -> PathBuf {
    repo_root().join("recipes")
}

/// `../shared/conformance` beside the repository, or `None` when it is
/// absent, after printing why: tests that need the reference corpus return
/// early instead of failing on a machine without it.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = repo_root().join("../shared/conformance");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: reference corpus not found at {} (tests read ../shared/conformance)",
            dir.display()
        );
        None
    }
}

/// A path inside the reference corpus, or `None` (with the reason printed)
/// when the corpus or that path is absent.
pub fn conformance_path(relative: &str) -> Option<PathBuf> {
    let path = conformance_dir()?.join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent", path.display());
        None
    }
}

/// One row of the corpus's `recipe/queries.tsv`: the five criteria flags
/// the reference CLI was given (`any` = omitted), its exit status, and the
/// expected output id or `error:CODE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceQuery {
    /// service, accelerator, os, intent, platform.
    pub flags: [String; 5],
    /// The reference CLI's exit status.
    pub exit: i32,
    /// `recipe/outputs/<expected>.yaml`, or `error:<CODE>`.
    pub expected: String,
}

impl ReferenceQuery {
    /// The flags as `aicr recipe` arguments, leaving out `any`.
    pub fn cli_args(&self) -> Vec<String> {
        [
            "--service",
            "--accelerator",
            "--os",
            "--intent",
            "--platform",
        ]
        .iter()
        .zip(&self.flags)
        .filter(|(_, v)| *v != "any")
        .flat_map(|(n, v)| [n.to_string(), v.clone()])
        .collect()
    }
}

/// Every row of `<conformance>/recipe/queries.tsv`, in file order.
pub fn reference_queries(conformance: &Path) -> Vec<ReferenceQuery> {
    let text = std::fs::read_to_string(conformance.join("recipe/queries.tsv"))
        .expect("recipe/queries.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            ReferenceQuery {
                flags: std::array::from_fn(|i| cols[i].to_string()),
                exit: cols[5].parse().expect("exit status"),
                expected: cols[6].to_string(),
            }
        })
        .collect()
}

/// Copies the directory `from` to `to` recursively (files and folders).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A copy of our catalog in a temporary directory, for a test to break.
pub fn catalog_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&recipes_dir(), tmp.path());
    tmp
}

/// Replaces the first `from` in the file `dir/file` with `to`, failing the
/// test when `from` is not there (so an edit never silently does nothing).
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Every file below `root`, keyed by its `/`-separated relative path.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Parses one YAML document into the JSON value model.
pub fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// The non-empty YAML documents of `text`; `origin` names it in the panic
/// when it does not parse.
pub fn yaml_docs(text: &str, origin: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .unwrap_or_else(|e| panic!("{origin} does not parse as YAML: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// A recipe document without the fields the reference corpus leaves out
/// of its expected outputs: `criteria` and `metadata.version`.
pub fn strip_recipe(mut doc: Value) -> Value {
    let map = doc.as_object_mut().expect("a recipe is a mapping");
    map.shift_remove("criteria");
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        meta.shift_remove("version");
    }
    doc
}

/// Exit status, stdout and stderr of a finished process, as text.
pub fn output_text(out: std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

pub mod mcp;

#[cfg(feature = "apiserver")]
pub mod apiserver;

#[cfg(feature = "registry")]
pub mod registry;

/// A plain HTTP/1.1 server on loopback for download tests: each GET is
/// answered by `answer(path)` (status line text and body), one request per
/// connection, until the test process ends. Returns `http://127.0.0.1:<port>`.
pub fn http_server(answer: impl Fn(&str) -> (&'static str, Vec<u8>) + Send + 'static) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(n) if n > 2 => {}
                    _ => break,
                }
            }
            let (status, body) = answer(line.split(' ').nth(1).unwrap_or("/"));
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    base
}
