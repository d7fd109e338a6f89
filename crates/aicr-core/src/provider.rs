//! Where catalog files come from. One trait, three implementations: the
//! catalog compiled into the binary, a directory used as the whole catalog
//! (`--catalog`), and an external directory layered over the embedded one
//! (`--data`, the reference's semantics).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_catalog.rs"));
}

/// Largest catalog file we read; guards against a stray huge file in `--data`.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Read-only access to catalog files by relative path (`overlays/eks.yaml`).
pub trait DataProvider: Send + Sync {
    /// The bytes of a file, or `None` when it does not exist.
    fn read(&self, path: &str) -> Result<Option<Cow<'_, [u8]>>>;
    /// Every file path, sorted.
    fn files(&self) -> Vec<String>;
    /// Where a file comes from, for messages.
    fn origin(&self, path: &str) -> String;
    /// The file pre-parsed into the compact form of `embedded.rs`,
    /// when the provider has it (the embedded catalog does); decoding it
    /// gives the same data as parsing the YAML.
    fn parsed(&self, _path: &str) -> Option<&str> {
        None
    }
    /// The provider this one is layered over, if any. Registry entries and
    /// validators are merged by name across layers.
    fn lower(&self) -> Option<&dyn DataProvider> {
        None
    }
}

/// Checks a catalog-relative path: relative, no `..`, no root.
pub fn check_relative(path: &str) -> Result<()> {
    let p = Path::new(path);
    let escapes = path.is_empty()
        || p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes {
        return Err(Error::invalid(format!(
            "path {path:?} escapes the data directory: catalog paths must be relative and must not contain '..'"
        )));
    }
    Ok(())
}

type EmbeddedEntry = embedded::Entry;

fn embedded_entry(path: &str) -> Option<&'static EmbeddedEntry> {
    let i = embedded::FILES
        .binary_search_by(|(p, _, _)| (*p).cmp(path))
        .ok()?;
    Some(&embedded::FILES[i])
}

/// The catalog compiled into the binary from `recipes/`.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmbeddedProvider;

impl DataProvider for EmbeddedProvider {
    fn read(&self, path: &str) -> Result<Option<Cow<'_, [u8]>>> {
        Ok(embedded_entry(path).map(|(_, bytes, _)| Cow::Borrowed(*bytes)))
    }

    fn parsed(&self, path: &str) -> Option<&str> {
        let (start, end) = embedded_entry(path)?.2?;
        embedded::COMPACT.get(start as usize..end as usize)
    }

    fn files(&self) -> Vec<String> {
        embedded::FILES
            .iter()
            .map(|(p, _, _)| (*p).to_string())
            .collect()
    }

    fn origin(&self, path: &str) -> String {
        format!("embedded:{path}")
    }
}

/// A directory on disk used as a whole catalog.
#[derive(Debug, Clone)]
pub struct DirProvider {
    root: PathBuf,
    files: BTreeMap<String, PathBuf>,
}

impl DirProvider {
    /// Indexes `root`. Symbolic links are refused so a catalog cannot reach
    /// outside its directory.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        let shown = crate::error::escape(&root.display().to_string());
        // The directory itself may be a link (users point --data at one);
        // links inside it are refused by `index`.
        let meta = std::fs::metadata(&root).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::not_found(format!("data directory {shown} not found"))
            }
            _ => Error::invalid(format!("cannot read data directory {shown}")).with_source(e),
        })?;
        if !meta.is_dir() {
            return Err(Error::invalid(format!(
                "data directory {shown} is not a directory"
            )));
        }
        let mut files = BTreeMap::new();
        index(&root, &root, &mut files)?;
        Ok(DirProvider { root, files })
    }

    /// The directory this provider reads.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn index(root: &Path, dir: &Path, files: &mut BTreeMap<String, PathBuf>) -> Result<()> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| Error::internal(format!("cannot read directory {}: {e}", dir.display())))?;
    for entry in read {
        let entry =
            entry.map_err(|e| Error::internal(format!("cannot read {}: {e}", dir.display())))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| Error::internal(format!("cannot stat {}: {e}", path.display())))?;
        if kind.is_symlink() {
            return Err(Error::invalid(format!(
                "symlinks are not allowed in data directories: {}",
                crate::error::escape(&path.display().to_string())
            )));
        }
        if kind.is_dir() {
            index(root, &path, files)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .map_err(|_| {
                    Error::internal(format!("{} is outside the data directory", path.display()))
                })?
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(rel, path);
        }
    }
    Ok(())
}

impl DataProvider for DirProvider {
    fn read(&self, path: &str) -> Result<Option<Cow<'_, [u8]>>> {
        check_relative(path)?;
        let Some(abs) = self.files.get(path) else {
            return Ok(None);
        };
        // Only a file the catalog actually reads is size-checked, so an
        // unrelated large file in a data directory does no harm.
        let size = std::fs::metadata(abs).map(|m| m.len()).unwrap_or(0);
        if size > MAX_FILE_BYTES {
            return Err(Error::invalid(format!(
                "{} is larger than {MAX_FILE_BYTES} bytes",
                crate::error::escape(&abs.display().to_string())
            )));
        }
        std::fs::read(abs)
            .map(|b| Some(Cow::Owned(b)))
            .map_err(|e| Error::internal(format!("cannot read {}", abs.display())).with_source(e))
    }

    fn files(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    fn origin(&self, path: &str) -> String {
        self.root.join(path).display().to_string()
    }
}

/// An external directory layered over another provider (`--data`): files
/// in the directory replace or add to the lower layer's; `registry.yaml`
/// is required and merged by component name by the catalog loader.
pub struct LayeredProvider {
    upper: DirProvider,
    lower: Box<dyn DataProvider>,
}

impl LayeredProvider {
    /// Layers `dir` over `lower`.
    pub fn new(dir: impl AsRef<Path>, lower: Box<dyn DataProvider>) -> Result<Self> {
        let upper = DirProvider::open(dir)?;
        if !upper.files.contains_key("registry.yaml") {
            return Err(Error::invalid(format!(
                "data directory {} must contain registry.yaml",
                upper.root.display()
            )));
        }
        Ok(LayeredProvider { upper, lower })
    }
}

impl DataProvider for LayeredProvider {
    fn read(&self, path: &str) -> Result<Option<Cow<'_, [u8]>>> {
        match self.upper.read(path)? {
            Some(bytes) => Ok(Some(bytes)),
            None => self.lower.read(path),
        }
    }

    fn files(&self) -> Vec<String> {
        let mut all = self.lower.files();
        all.extend(self.upper.files());
        all.sort();
        all.dedup();
        all
    }

    fn origin(&self, path: &str) -> String {
        if self.upper.files.contains_key(path) {
            self.upper.origin(path)
        } else {
            self.lower.origin(path)
        }
    }

    fn parsed(&self, path: &str) -> Option<&str> {
        if self.upper.files.contains_key(path) {
            None
        } else {
            self.lower.parsed(path)
        }
    }

    fn lower(&self) -> Option<&dyn DataProvider> {
        Some(self.lower.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_compact_forms_hold_the_same_data_as_the_yaml() {
        let mut digested = 0;
        for path in EmbeddedProvider.files() {
            let Some(compact) = EmbeddedProvider.parsed(&path) else {
                continue;
            };
            let bytes = EmbeddedProvider.read(&path).unwrap().unwrap();
            let from_yaml: serde_json::Value = crate::yaml::parse(&bytes, &path).unwrap();
            let from_compact: serde_json::Value =
                crate::embedded::from_compact(compact).expect(&path);
            assert_eq!(from_yaml, from_compact, "{path}");
            digested += 1;
        }
        assert!(digested > 100, "only {digested} files digested");
    }

    #[test]
    fn relative_paths_that_escape_are_rejected() {
        assert!(check_relative("components/a/values.yaml").is_ok());
        for bad in ["../x.yaml", "/etc/passwd", "a/../../b", ""] {
            let err = check_relative(bad).unwrap_err();
            assert_eq!(err.code(), crate::error::Code::InvalidRequest, "{bad}");
        }
    }
}
