//! A bundle as one zip archive (`POST /v1/bundle`): the files `aicr bundle
//! -o DIR` writes, our marker included, so that unpacking it gives the same
//! directory. Byte-identical for the same tree: entries in path order, a
//! directory entry before the files under it, every time stamp
//! 1980-01-01 00:00, modes 0755 (directories and scripts) or 0644.

use std::collections::BTreeSet;
use std::io::{Cursor, Write};

use aicr_core::error::{Error, Result};
use zip::write::SimpleFileOptions;

use crate::tree::FileTree;
use crate::write::{MARKER_FILE, MARKER_TEXT};

/// The zip archive of `tree`.
pub fn zip(tree: &FileTree) -> Result<Vec<u8>> {
    let fail =
        |e: zip::result::ZipError| Error::internal("writing the bundle archive").with_source(e);
    let base = SimpleFileOptions::default()
        .last_modified_time(zip::DateTime::default())
        .compression_method(zip::CompressionMethod::Deflated);
    let mut archive = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut files: Vec<(&str, &[u8], bool)> = tree
        .iter()
        .map(|(path, f)| (path.as_str(), f.bytes.as_slice(), f.executable))
        .collect();
    files.push((MARKER_FILE, MARKER_TEXT.as_bytes(), false));
    files.sort_by_key(|(path, _, _)| *path);
    let mut made = BTreeSet::new();
    for (path, bytes, executable) in files {
        // Parent directories first, each once.
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let dir = &path[..at + i + 1];
            if made.insert(dir.to_string()) {
                archive
                    .add_directory(dir, base.unix_permissions(0o755))
                    .map_err(fail)?;
            }
            at += i + 1;
        }
        let mode = if executable { 0o755 } else { 0o644 };
        archive
            .start_file(path, base.unix_permissions(mode))
            .map_err(fail)?;
        archive
            .write_all(bytes)
            .map_err(|e| Error::internal("writing the bundle archive").with_source(e))?;
    }
    Ok(archive.finish().map_err(fail)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> FileTree {
        let mut tree = FileTree::new();
        tree.insert("b/values.yaml", "a: 1\n");
        tree.insert_executable("deploy.sh", "#!/bin/sh\n");
        tree.insert("b/c/x.yaml", "x\n");
        tree
    }

    #[test]
    fn an_archive_holds_the_tree_and_is_the_same_every_time() {
        let bytes = zip(&sample()).unwrap();
        assert_eq!(bytes, zip(&sample()).unwrap());
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let names: Vec<String> = (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                ".aicr-bundle",
                "b/",
                "b/c/",
                "b/c/x.yaml",
                "b/values.yaml",
                "deploy.sh"
            ]
        );
        let mut script = archive.by_name("deploy.sh").unwrap();
        assert_eq!(script.unix_mode().unwrap() & 0o777, 0o755);
        let mut text = String::new();
        script.read_to_string(&mut text).unwrap();
        assert_eq!(text, "#!/bin/sh\n");
    }
}
