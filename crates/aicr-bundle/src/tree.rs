//! The generated bundle as an in-memory file tree, keyed by relative path.

use std::collections::BTreeMap;

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File contents.
    pub bytes: Vec<u8>,
    /// Written with mode 0755 when true.
    pub executable: bool,
}

/// A bundle: relative path (forward slashes) → file, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTree {
    files: BTreeMap<String, GeneratedFile>,
}

impl FileTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a regular file.
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(
            path.into(),
            GeneratedFile {
                bytes: bytes.into(),
                executable: false,
            },
        );
    }

    /// Adds (or replaces) an executable file.
    pub fn insert_executable(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(
            path.into(),
            GeneratedFile {
                bytes: bytes.into(),
                executable: true,
            },
        );
    }

    /// Removes a file, returning it.
    pub fn remove(&mut self, path: &str) -> Option<GeneratedFile> {
        self.files.remove(path)
    }

    /// A file by path.
    pub fn get(&self, path: &str) -> Option<&GeneratedFile> {
        self.files.get(path)
    }

    /// Every file, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &GeneratedFile)> {
        self.files.iter()
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
