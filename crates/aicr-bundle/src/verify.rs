//! `aicr verify`: re-checks a bundle directory against its `checksums.txt`.

use std::fs;
use std::path::Path;

use serde::Serialize;

use aicr_core::error::{Code, Error, Result};

use crate::checksum::{self, CHECKSUMS_FILE, sha256_hex};

/// What is wrong with one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Problem {
    /// Contents differ from the recorded checksum.
    Mismatch,
    /// Listed but absent.
    Missing,
    /// Present but not listed.
    Extra,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Path relative to the bundle root.
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
    /// Every mismatched, missing or unlisted file, sorted by path.
    pub findings: Vec<Finding>,
}

impl Problem {
    /// How the problem reads in a report.
    pub fn describe(&self) -> &'static str {
        match self {
            Problem::Mismatch => "checksum mismatch",
            Problem::Missing => "missing",
            Problem::Extra => "not listed in checksums.txt",
        }
    }
}

impl VerifyReport {
    /// The text report: a summary line for a valid bundle, else one line
    /// per finding.
    pub fn render_text(&self) -> String {
        if self.is_valid() {
            return format!(
                "bundle {} verified: {} files match checksums.txt\n",
                self.dir, self.files_checked
            );
        }
        self.findings
            .iter()
            .map(|f| format!("{}: {}\n", f.path, f.problem.describe()))
            .collect()
    }

    /// True when every file matches and nothing is unlisted.
    pub fn is_valid(&self) -> bool {
        self.findings.is_empty()
    }

    /// `Ok` for a valid bundle, else an UNAUTHORIZED error naming the
    /// findings (exit status 4, as the reference).
    pub fn into_result(self) -> Result<Self> {
        if self.is_valid() {
            return Ok(self);
        }
        let list: Vec<String> = self
            .findings
            .iter()
            .map(|f| format!("{} ({})", f.path, format!("{:?}", f.problem).to_lowercase()))
            .collect();
        Err(Error::new(
            Code::Unauthorized,
            format!(
                "bundle {} failed verification: {}",
                self.dir,
                list.join(", ")
            ),
        ))
    }
}

/// Checks every file of the bundle in `dir` against its checksums.txt.
pub fn verify_dir(dir: &Path) -> Result<VerifyReport> {
    let sums_path = dir.join(CHECKSUMS_FILE);
    if !dir.is_dir() {
        return Err(Error::not_found(format!(
            "bundle directory not found: {}",
            dir.display()
        )));
    }
    let text = match fs::read_to_string(&sums_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::not_found(format!(
                "{} has no {CHECKSUMS_FILE}: not an AICR bundle",
                dir.display()
            )));
        }
        Err(e) => {
            return Err(Error::internal(format!(
                "reading {}: {e}",
                sums_path.display()
            )));
        }
    };
    let listed = checksum::parse(&text).map_err(|line| {
        Error::new(
            Code::Unauthorized,
            format!(
                "{}: line {line} is not `<sha256>  <path>`",
                sums_path.display()
            ),
        )
    })?;
    let mut findings = Vec::new();
    for (path, want) in &listed {
        if path.split('/').any(|s| s == "..") || path.starts_with('/') {
            findings.push(Finding {
                path: path.clone(),
                problem: Problem::Mismatch,
            });
            continue;
        }
        match fs::read(dir.join(path)) {
            Ok(bytes) if sha256_hex(&bytes) == *want => {}
            Ok(_) => findings.push(Finding {
                path: path.clone(),
                problem: Problem::Mismatch,
            }),
            Err(_) => findings.push(Finding {
                path: path.clone(),
                problem: Problem::Missing,
            }),
        }
    }
    let mut present = Vec::new();
    crate::write::walk(dir, "", &mut present)
        .map_err(|e| Error::internal(format!("reading {}: {e}", dir.display())))?;
    for path in present {
        if path != CHECKSUMS_FILE && !listed.iter().any(|(p, _)| *p == path) {
            findings.push(Finding {
                path,
                problem: Problem::Extra,
            });
        }
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(VerifyReport {
        dir: dir.display().to_string(),
        files_checked: listed.len(),
        findings,
    })
}
