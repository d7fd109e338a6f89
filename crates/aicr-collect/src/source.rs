//! The reference's shared file-reading rules, used by every source that
//! reads a file: a size cap, UTF-8 only, and the splitting into trimmed,
//! non-empty, non-comment parts and `key=value` pairs.

use std::io::Read;
use std::path::Path;

use aicr_core::error::escape;
use aicr_core::{Code, Error, Result};

/// The most a source file may hold (the reference's 1 MiB).
pub const MAX_SOURCE_BYTES: u64 = 1024 * 1024;

/// Reads a regular file of at most [`MAX_SOURCE_BYTES`] as UTF-8 text.
///
/// A missing file is NOT_FOUND; a directory, FIFO or device (whose read
/// could block or never end), a larger file or one that is not UTF-8 is
/// INVALID_REQUEST; any other I/O failure is INTERNAL. Symbolic links are
/// followed: callers that must not leave a tree check entries first.
pub fn read_text(path: &Path) -> Result<String> {
    let shown = escape(&path.display().to_string());
    let meta = std::fs::metadata(path).map_err(|e| io_error(&shown, e))?;
    if !meta.is_file() {
        return Err(Error::invalid(format!("{shown} is not a regular file")));
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(&shown, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(&shown, e))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(Error::invalid(format!(
            "{shown} is larger than the {MAX_SOURCE_BYTES}-byte limit"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| Error::invalid(format!("{shown} is not valid UTF-8")).with_source(e))
}

fn io_error(shown: &str, e: std::io::Error) -> Error {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => Code::NotFound,
        _ => Code::Internal,
    };
    Error::new(code, format!("cannot read {shown}")).with_source(e)
}

/// The parts of `text` split on `delimiter`, each trimmed of whitespace;
/// empty parts and parts starting with `#` are dropped.
pub(crate) fn parts(text: &str, delimiter: char) -> impl Iterator<Item = &str> {
    text.split(delimiter)
        .map(str::trim)
        .filter(|part| !part.is_empty() && !part.starts_with('#'))
}

/// A part split at its first `=`, both sides trimmed; a part without `=`
/// is a key with an empty value.
pub(crate) fn key_value(part: &str) -> (&str, &str) {
    match part.split_once('=') {
        Some((key, value)) => (key.trim(), value.trim()),
        None => (part, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_trimmed_and_skip_blanks_and_comments() {
        let text = "line1\n   # indented comment\n\n  value # inline  \n";
        assert_eq!(
            parts(text, '\n').collect::<Vec<_>>(),
            ["line1", "value # inline"]
        );
    }

    #[test]
    fn key_value_splits_at_the_first_equals_sign() {
        assert_eq!(key_value("a=b=c"), ("a", "b=c"));
        assert_eq!(key_value("key = value"), ("key", "value"));
        assert_eq!(key_value("ro"), ("ro", ""));
        assert_eq!(key_value("=v"), ("", "v"));
    }

    #[test]
    fn read_text_caps_size_and_requires_utf8_and_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        let mut bytes = vec![b'a'; MAX_SOURCE_BYTES as usize];
        std::fs::File::create(&big)
            .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
            .unwrap();
        assert_eq!(read_text(&big).unwrap().len(), MAX_SOURCE_BYTES as usize);
        bytes.push(b'a');
        std::fs::File::create(&big)
            .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
            .unwrap();
        assert_eq!(read_text(&big).unwrap_err().code(), Code::InvalidRequest);

        let latin1 = dir.path().join("latin1");
        std::fs::File::create(&latin1)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"valid\xff\xfe"))
            .unwrap();
        assert_eq!(read_text(&latin1).unwrap_err().code(), Code::InvalidRequest);

        assert_eq!(
            read_text(dir.path()).unwrap_err().code(),
            Code::InvalidRequest
        );
        assert_eq!(
            read_text(&dir.path().join("missing")).unwrap_err().code(),
            Code::NotFound
        );
    }
}
