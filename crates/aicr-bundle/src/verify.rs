//! `aicr verify`: re-checks a bundle directory against its `checksums.txt`.
//!
//! People run this on bundles they did not make, so it trusts nothing in
//! the directory: it never follows a symbolic link inside it, reads only
//! regular files (a FIFO or device could block or never end), streams
//! every file through the hash instead of loading it, caps the size of
//! `checksums.txt`, and reports a listed path that is absolute or climbs
//! out with `..` as a finding instead of reading it.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use aicr_core::error::{Code, Error, Result, escape};

use crate::checksum::{self, CHECKSUMS_FILE};

/// Largest `checksums.txt` we read: far above any real bundle's.
pub const MAX_CHECKSUMS_BYTES: u64 = 8 * 1024 * 1024;

/// How many findings or bad lines a message names before counting the rest.
const SHOWN: usize = 10;

/// What is wrong with one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Problem {
    /// Contents differ from the recorded checksum.
    Mismatch,
    /// Listed but absent.
    Missing,
    /// Present but not listed.
    Extra,
    /// A symbolic link, which verify never follows.
    Symlink,
    /// Not a regular file or directory (FIFO, socket, device), or a
    /// directory where a file is listed.
    NotAFile,
    /// A listed path that is absolute, empty, or climbs with `..`.
    UnsafePath,
}

impl Problem {
    /// How the problem reads in a report.
    pub fn describe(&self) -> &'static str {
        match self {
            Problem::Mismatch => "checksum mismatch",
            Problem::Missing => "missing",
            Problem::Extra => "not listed in checksums.txt",
            Problem::Symlink => "symbolic link (not followed)",
            Problem::NotAFile => "not a regular file",
            Problem::UnsafePath => "unsafe path (absolute or outside the bundle)",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Path relative to the bundle root, as listed or found.
    pub path: String,
    /// What is wrong.
    pub problem: Problem,
}

/// The result of verifying a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// The directory checked.
    pub dir: String,
    /// Files listed in checksums.txt.
    pub files_checked: usize,
    /// Every finding, sorted by path.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// The text report: a summary line for a valid bundle, else one line
    /// per finding (control characters in paths escaped).
    pub fn render_text(&self) -> String {
        if self.is_valid() {
            return format!(
                "bundle {} verified: {} files match checksums.txt\n",
                escape(&self.dir),
                self.files_checked
            );
        }
        self.findings
            .iter()
            .map(|f| format!("{}: {}\n", escape(&f.path), f.problem.describe()))
            .collect()
    }

    /// True when every file matches and nothing else is there.
    pub fn is_valid(&self) -> bool {
        self.findings.is_empty()
    }

    /// `Ok` for a valid bundle, else an UNAUTHORIZED error naming the
    /// first findings and counting the rest (exit status 4, as the
    /// reference).
    pub fn into_result(self) -> Result<Self> {
        if self.is_valid() {
            return Ok(self);
        }
        let list: Vec<String> = self
            .findings
            .iter()
            .take(SHOWN)
            .map(|f| format!("{} ({})", escape(&f.path), f.problem.describe()))
            .collect();
        Err(Error::new(
            Code::Unauthorized,
            format!(
                "bundle {} failed verification: {}{}",
                escape(&self.dir),
                list.join(", "),
                more(self.findings.len())
            ),
        ))
    }
}

/// `", and N more"` past the first [`SHOWN`] items.
fn more(total: usize) -> String {
    match total.saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(", and {n} more"),
    }
}

/// What one path inside the bundle is, read without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    Special,
}

impl Kind {
    fn of(file_type: fs::FileType) -> Kind {
        if file_type.is_symlink() {
            Kind::Symlink
        } else if file_type.is_dir() {
            Kind::Dir
        } else if file_type.is_file() {
            Kind::File
        } else {
            Kind::Special
        }
    }
}

/// Checks every file of the bundle in `dir` against its checksums.txt.
pub fn verify_dir(dir: &Path) -> Result<VerifyReport> {
    let shown = escape(&dir.display().to_string());
    if !dir.is_dir() {
        return Err(Error::not_found(format!(
            "bundle directory not found: {shown}"
        )));
    }
    let listed = read_checksums(dir, &shown)?;
    let mut present = BTreeMap::new();
    walk(dir, "", &mut present)
        .map_err(|e| Error::internal(format!("reading {shown}")).with_source(e))?;

    let mut findings = Vec::new();
    for (path, want) in &listed {
        if let Some(problem) = check_listed(dir, &present, path, want) {
            findings.push(Finding {
                path: path.clone(),
                problem,
            });
        }
    }
    for (path, kind) in &present {
        let listed_here = path == CHECKSUMS_FILE || listed.iter().any(|(p, _)| p == path);
        let our_marker = path == crate::write::MARKER_FILE && *kind == Kind::File;
        let problem = match kind {
            _ if listed_here || our_marker => continue,
            Kind::Dir => continue,
            Kind::File => Problem::Extra,
            Kind::Symlink => Problem::Symlink,
            Kind::Special => Problem::NotAFile,
        };
        findings.push(Finding {
            path: path.clone(),
            problem,
        });
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    findings.dedup();
    Ok(VerifyReport {
        dir: dir.display().to_string(),
        files_checked: listed.len(),
        findings,
    })
}

/// Reads and parses `checksums.txt`: a regular file (not a link) of at
/// most [`MAX_CHECKSUMS_BYTES`] of UTF-8 text. Anything else means the
/// bundle cannot be trusted: UNAUTHORIZED.
fn read_checksums(dir: &Path, shown: &str) -> Result<Vec<(String, String)>> {
    let path = dir.join(CHECKSUMS_FILE);
    let untrusted = |why: &str| {
        Error::new(
            Code::Unauthorized,
            format!("{shown}/{CHECKSUMS_FILE} {why}: the bundle cannot be verified"),
        )
    };
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::not_found(format!(
                "{shown} has no {CHECKSUMS_FILE}: not an AICR bundle"
            )));
        }
        Err(e) => return Err(untrusted("cannot be read").with_source(e)),
    };
    match Kind::of(meta.file_type()) {
        Kind::File => {}
        Kind::Symlink => return Err(untrusted("is a symbolic link")),
        Kind::Dir | Kind::Special => return Err(untrusted("is not a regular file")),
    }
    if meta.len() > MAX_CHECKSUMS_BYTES {
        return Err(untrusted(&format!(
            "is larger than {MAX_CHECKSUMS_BYTES} bytes"
        )));
    }
    let bytes = fs::read(&path).map_err(|e| untrusted("cannot be read").with_source(e))?;
    let text = String::from_utf8(bytes).map_err(|_| untrusted("is not UTF-8 text"))?;
    let (listed, bad) = checksum::parse_all(&text);
    if !bad.is_empty() {
        let lines: Vec<String> = bad.iter().take(SHOWN).map(usize::to_string).collect();
        return Err(untrusted(&format!(
            "has malformed lines (expected `<sha256>  <path>`): {}{}",
            lines.join(", "),
            more(bad.len())
        )));
    }
    Ok(listed)
}

/// The problem with one listed path, if any.
fn check_listed(
    dir: &Path,
    present: &BTreeMap<String, Kind>,
    path: &str,
    want: &str,
) -> Option<Problem> {
    if !is_safe_relative(path) {
        return Some(Problem::UnsafePath);
    }
    match present.get(path) {
        Some(Kind::File) => match hash_regular_file(&dir.join(path)) {
            Ok(got) if got == want => None,
            Ok(_) => Some(Problem::Mismatch),
            Err(problem) => Some(problem),
        },
        Some(Kind::Symlink) => Some(Problem::Symlink),
        Some(Kind::Dir | Kind::Special) => Some(Problem::NotAFile),
        // Under a linked or special parent the walk never went in: name
        // that instead of calling the file missing.
        None => ancestors(path)
            .find_map(|a| match present.get(a) {
                Some(Kind::Symlink) => Some(Problem::Symlink),
                Some(Kind::Special | Kind::File) => Some(Problem::NotAFile),
                _ => None,
            })
            .or(Some(Problem::Missing)),
    }
}

/// `a`, `a/b` for `a/b/c`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// A listed path we may read: relative, no empty, `.` or `..` parts, no
/// backslashes or control characters.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Streams a file through SHA-256. The walk saw a regular file here; the
/// opened handle must still be one (a swap for a link or FIFO between the
/// walk and the open is caught, and a FIFO is never read).
fn hash_regular_file(path: &Path) -> std::result::Result<String, Problem> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => return Err(Problem::Symlink),
        Ok(meta) if !meta.is_file() => return Err(Problem::NotAFile),
        Ok(_) => {}
        Err(_) => return Err(Problem::Missing),
    }
    let mut file = fs::File::open(path).map_err(|_| Problem::Missing)?;
    match file.metadata() {
        Ok(meta) if meta.is_file() => {}
        _ => return Err(Problem::NotAFile),
    }
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(|_| Problem::Mismatch)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Every path under `root/prefix` with its kind, relative to `root`.
/// Links are recorded, never followed.
pub(crate) fn walk(root: &Path, prefix: &str, out: &mut BTreeMap<String, Kind>) -> io::Result<()> {
    for entry in fs::read_dir(root.join(prefix))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = Kind::of(entry.file_type()?);
        out.insert(rel.clone(), kind);
        if kind == Kind::Dir {
            walk(root, &rel, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\\b",
            "a\nb",
        ] {
            assert!(!is_safe_relative(bad), "{bad:?}");
        }
        for good in ["a", "001-x/values.yaml", "a.b/c..d"] {
            assert!(is_safe_relative(good), "{good:?}");
        }
    }

    #[test]
    fn ancestors_are_listed_outermost_first() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(ancestors("a").count(), 0);
    }
}
