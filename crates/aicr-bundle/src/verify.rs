//! `aicr verify`: re-checks a bundle directory against its `checksums.txt`
//! and its attestation, and says how far its provenance was shown (see
//! [`crate::trust`]).
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

use crate::attest::{self, PublicKey};
use crate::checksum::{self, CHECKSUMS_FILE};
use crate::trust::TrustLevel;

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

/// The result of verifying a bundle. The first fields are the
/// reference's (`aicr verify --format json`), in its order; `hasAttestation`,
/// `dir` and `findings` are ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// How far the bundle's provenance was shown.
    pub trust_level: TrustLevel,
    /// Every listed file matches and nothing else is there.
    pub checksums_passed: bool,
    /// Files listed in checksums.txt.
    pub checksum_files: usize,
    /// The bundle attestation verified with the given public key.
    pub bundle_attested: bool,
    /// Always false: the binary attestation needs keyless verification.
    pub binary_attested: bool,
    /// Always false, as `binaryAttested`.
    pub identity_pinned: bool,
    /// Who signed the attestation: the hint of the key that verified it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bundle_creator: String,
    /// The aicr version the attestation records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// The bundle holds a `data/` folder (external data).
    pub has_external_data: bool,
    /// The bundle holds a bundle attestation (checked or not).
    pub has_attestation: bool,
    /// Why the trust level is what it is.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub trust_reason: String,
    /// Verification failures; any makes verify fail (UNAUTHORIZED).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The directory checked.
    pub dir: String,
    /// Every checksum finding, sorted by path.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    fn new(dir: &Path) -> VerifyReport {
        VerifyReport {
            trust_level: TrustLevel::Unknown,
            checksums_passed: false,
            checksum_files: 0,
            bundle_attested: false,
            binary_attested: false,
            identity_pinned: false,
            bundle_creator: String::new(),
            tool_version: None,
            has_external_data: false,
            has_attestation: false,
            trust_reason: String::new(),
            errors: Vec::new(),
            dir: dir.display().to_string(),
            findings: Vec::new(),
        }
    }

    fn set_trust(&mut self, level: TrustLevel, reason: &str) {
        self.trust_level = level;
        self.trust_reason = reason.to_string();
    }

    /// The text report, as the reference prints it: `✓`/`✗` lines, the
    /// trust level and its reason, the errors, and the verdict (with the
    /// policy failure, if any). Control characters are escaped.
    pub fn render_text(&self, policy_failure: Option<&str>) -> String {
        // What was checked: a directory, or a pulled reference with its
        // digest.
        let mut out = format!("Bundle {}\n", escape(&self.dir));
        if self.checksums_passed {
            out += &format!("  ✓ Checksums verified ({} files)\n", self.checksum_files);
        } else {
            out += "  ✗ Checksum verification failed\n";
        }
        if self.bundle_attested {
            out += &format!(
                "  ✓ Bundle attested by: {} (public key)\n",
                escape(&self.bundle_creator)
            );
        }
        out += &format!("  Trust level: {}\n", self.trust_level);
        if !self.trust_reason.is_empty() {
            out += &format!("    ↳ {}\n", self.trust_reason);
        }
        if !self.errors.is_empty() {
            out += "\nDetails:\n";
            for e in &self.errors {
                out += &format!("  - {}\n", escape(e));
            }
        }
        match policy_failure {
            Some(why) => out += &format!("\nBundle verification: FAILED\n  {}\n", escape(why)),
            None if !self.errors.is_empty() => out += "\nBundle verification: FAILED\n",
            None => out += "\nBundle verification: PASSED\n",
        }
        out
    }

    /// True when checksums and any checked attestation hold.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// The verdict: a failed checksum or signature is UNAUTHORIZED (exit
    /// status 4), naming the first errors and counting the rest; else a
    /// policy failure is INVALID_REQUEST (exit status 2); else `Ok`.
    /// Unlike the reference, whose policy check comes first (so a bad
    /// signature under the default `max` exits 2), a failed check is
    /// always UNAUTHORIZED.
    pub fn into_result(self, policy_failure: Option<String>) -> Result<Self> {
        if !self.is_valid() {
            let list: Vec<String> = self.errors.iter().take(SHOWN).map(|e| escape(e)).collect();
            return Err(Error::new(
                Code::Unauthorized,
                format!(
                    "bundle {} failed verification: {}{}",
                    escape(&self.dir),
                    list.join(", "),
                    more(self.errors.len())
                ),
            ));
        }
        match policy_failure {
            Some(why) => Err(Error::invalid(format!(
                "bundle {}: {}",
                escape(&self.dir),
                escape(&why)
            ))),
            None => Ok(self),
        }
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

/// Verifies the bundle in `dir`: every file against its checksums.txt,
/// then the bundle attestation, if there is one, against `public_key`.
/// An attestation with no key to check it is reported as not checked
/// (`unverified`), never as a pass. A failed check is in the report's
/// `errors`; only a missing directory or `checksums.txt` (NOT_FOUND) or a
/// directory that cannot be read (INTERNAL) is an `Err`.
pub fn verify_dir(dir: &Path, public_key: Option<&PublicKey>) -> Result<VerifyReport> {
    let shown = escape(&dir.display().to_string());
    if !dir.is_dir() {
        return Err(Error::not_found(format!(
            "bundle directory not found: {shown}"
        )));
    }
    let mut report = VerifyReport::new(dir);
    let (checksums, listed) = match read_checksums(dir, &shown) {
        Ok(read) => read,
        Err(e) if e.code() == Code::Unauthorized => {
            report.errors.push(e.to_string());
            report.set_trust(TrustLevel::Unknown, "checksums.txt cannot be trusted");
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let mut present = BTreeMap::new();
    walk(dir, "", &mut present)
        .map_err(|e| Error::internal(format!("reading {shown}")).with_source(e))?;
    report.checksum_files = listed.len();
    report.findings = findings(dir, &listed, &present);
    report.has_external_data = present.get("data") == Some(&Kind::Dir);
    if !report.findings.is_empty() {
        report.errors = report
            .findings
            .iter()
            .map(|f| format!("{}: {}", f.path, f.problem.describe()))
            .collect();
        report.set_trust(TrustLevel::Unknown, "checksum verification failed");
        return Ok(report);
    }
    report.checksums_passed = true;
    check_attestation(dir, &checksums, &present, public_key, &mut report);
    Ok(report)
}

/// Every checksum finding of the bundle, sorted by path.
fn findings(
    dir: &Path,
    listed: &[(String, String)],
    present: &BTreeMap<String, Kind>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (path, want) in listed {
        if let Some(problem) = check_listed(dir, present, path, want) {
            findings.push(Finding {
                path: path.clone(),
                problem,
            });
        }
    }
    for (path, kind) in present {
        let listed_here = path == CHECKSUMS_FILE || listed.iter().any(|(p, _)| p == path);
        // Ours, and not listed by design: the marker, and attestations
        // (signed over checksums.txt, so they cannot be in it).
        let unlisted_by_design = *kind == Kind::File
            && (path == crate::write::MARKER_FILE || attest::is_attestation_file(path));
        let problem = match kind {
            _ if listed_here || unlisted_by_design => continue,
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
    findings
}

/// The attestation step, once the checksums hold.
fn check_attestation(
    dir: &Path,
    checksums: &[u8],
    present: &BTreeMap<String, Kind>,
    public_key: Option<&PublicKey>,
    report: &mut VerifyReport,
) {
    if present.get(attest::BUNDLE_ATTESTATION_FILE) != Some(&Kind::File) {
        report.set_trust(
            TrustLevel::Unverified,
            "checksums valid but no attestation files found (bundle created without --attest)",
        );
        return;
    }
    report.has_attestation = true;
    let Some(key) = public_key else {
        report.set_trust(
            TrustLevel::Unverified,
            "bundle attestation found but not checked: pass --public-key to verify it (keyless Sigstore verification is not supported)",
        );
        return;
    };
    let path = dir.join(attest::BUNDLE_ATTESTATION_FILE);
    let checked = read_regular_file(&path, attest::MAX_ATTESTATION_BYTES)
        .and_then(|bytes| attest::verify_attestation(&bytes, checksums, key));
    match checked {
        Ok(attested) => {
            report.bundle_attested = true;
            report.bundle_creator = attested.key_hint;
            report.tool_version = attested.tool_version;
            report.set_trust(
                TrustLevel::Attested,
                "bundle attested with the given public key; verified needs NVIDIA's keyless binary attestation, which is not supported",
            );
        }
        Err(e) => {
            report.errors.push(format!(
                "bundle attestation verification failed: {}",
                e.message()
            ));
            report.set_trust(
                TrustLevel::Unknown,
                "bundle attestation verification failed",
            );
        }
    }
}

/// Reads a file that the walk saw as regular, refusing a swap for a link
/// or special file and anything over `limit` bytes (UNAUTHORIZED: the
/// bundle is not as it was signed).
fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let refuse = |why: &str| Error::new(Code::Unauthorized, why.to_string());
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && !meta.file_type().is_symlink() => {}
        _ => return Err(refuse("not a regular file")),
    }
    let file = fs::File::open(path).map_err(|_| refuse("cannot be read"))?;
    match file.metadata() {
        Ok(meta) if meta.is_file() && meta.len() <= limit => {}
        Ok(meta) if meta.is_file() => return Err(refuse(&format!("larger than {limit} bytes"))),
        _ => return Err(refuse("not a regular file")),
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, limit + 1), &mut bytes)
        .map_err(|_| refuse("cannot be read"))?;
    if bytes.len() as u64 > limit {
        return Err(refuse(&format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// Reads and parses `checksums.txt`: a regular file (not a link) of at
/// most [`MAX_CHECKSUMS_BYTES`] of UTF-8 text. Anything else means the
/// bundle cannot be trusted: UNAUTHORIZED.
/// `checksums.txt`'s bytes (what an attestation signs) and its entries.
type Checksums = (Vec<u8>, Vec<(String, String)>);

fn read_checksums(dir: &Path, shown: &str) -> Result<Checksums> {
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
    let text = std::str::from_utf8(&bytes).map_err(|_| untrusted("is not UTF-8 text"))?;
    let (listed, bad) = checksum::parse_all(text);
    if !bad.is_empty() {
        let lines: Vec<String> = bad.iter().take(SHOWN).map(usize::to_string).collect();
        return Err(untrusted(&format!(
            "has malformed lines (expected `<sha256>  <path>`): {}{}",
            lines.join(", "),
            more(bad.len())
        )));
    }
    Ok((bytes, listed))
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
