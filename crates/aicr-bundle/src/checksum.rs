//! `checksums.txt`: the SHA-256 of every other file of a bundle, one
//! `<hex>  <path>` line per file, sorted by path.

use sha2::{Digest, Sha256};

use crate::tree::FileTree;

/// The name of the checksum file at the bundle root.
pub const CHECKSUMS_FILE: &str = "checksums.txt";

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// The checksum file text for every file of `tree` except itself.
pub fn checksums(tree: &FileTree) -> String {
    let mut out = String::new();
    for (path, file) in tree.iter().filter(|(p, _)| *p != CHECKSUMS_FILE) {
        out.push_str(&sha256_hex(&file.bytes));
        out.push_str("  ");
        out.push_str(path);
        out.push('\n');
    }
    out
}

/// Adds (or refreshes) `checksums.txt` in `tree`.
pub fn add_checksums(tree: &mut FileTree) {
    let text = checksums(tree);
    tree.insert(CHECKSUMS_FILE, text);
}

/// Parses checksum lines into (path, hex) pairs; the first malformed line
/// is returned as an error with its 1-based line number.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, usize> {
    let (pairs, bad) = parse_all(text);
    match bad.first() {
        Some(line) => Err(*line),
        None => Ok(pairs),
    }
}

/// Parses every line: the (path, hex) pairs of the good ones and the
/// 1-based numbers of the malformed ones.
pub fn parse_all(text: &str) -> (Vec<(String, String)>, Vec<usize>) {
    let (mut pairs, mut bad) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once("  ") {
            Some((hex, path))
                if hex.len() == 64
                    && hex.chars().all(|c| c.is_ascii_hexdigit())
                    && !path.is_empty() =>
            {
                pairs.push((path.to_string(), hex.to_ascii_lowercase()));
            }
            _ => bad.push(i + 1),
        }
    }
    (pairs, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_cover_every_other_file_in_sorted_order() {
        let mut tree = FileTree::new();
        tree.insert("b.txt", "b");
        tree.insert("a/x.yaml", "");
        add_checksums(&mut tree);
        let text = String::from_utf8(tree.get(CHECKSUMS_FILE).unwrap().bytes.clone()).unwrap();
        assert_eq!(
            text,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a/x.yaml\n\
             3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.txt\n"
        );
        assert_eq!(parse(&text).unwrap().len(), 2);
        assert_eq!(parse("nothex  a\n"), Err(1));
    }
}
