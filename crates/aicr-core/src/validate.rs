//! The offline part of `aicr validate`: the recipe's top-level
//! constraints evaluated against a snapshot's readings (readiness), the
//! phases that need a cluster reported as skipped, and the report in
//! CTRF 0.0.1, the reference's format.
//!
//! Fail closed: a constraint whose reading the snapshot lacks, or whose
//! reading cannot be compared, fails; a constraint path that names no
//! reading any collector produces is an error before anything is
//! evaluated, so a typo never passes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};
use crate::model::ValidatorCatalog;
use crate::recipe::RecipeResult;
use crate::snapshot::Snapshot;
use crate::version::Expression;

/// A validation phase that runs checks on a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Checks after deployment.
    Deployment,
    /// Performance workloads.
    Performance,
    /// Conformance checks.
    Conformance,
}

impl Phase {
    /// Every phase, in the order `all` runs them.
    pub const ALL: [Phase; 3] = [Phase::Deployment, Phase::Performance, Phase::Conformance];

    /// The name as written on the command line and in catalogs.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Deployment => "deployment",
            Phase::Performance => "performance",
            Phase::Conformance => "conformance",
        }
    }

    /// Parses `--phase` values with the reference's rules: repeats are
    /// dropped keeping the given order; nothing, or only `all`, is every
    /// phase; `all` beside a named phase is an error, and so is an unknown
    /// name (checked first).
    pub fn parse_list(values: &[String]) -> Result<Vec<Phase>> {
        let mut phases = Vec::new();
        let mut all = false;
        for value in values {
            let name = value.trim();
            if name == "all" {
                all = true;
                continue;
            }
            let phase = Phase::ALL
                .into_iter()
                .find(|p| p.as_str() == name)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "invalid phase {:?}: valid phases are deployment, performance, conformance, all",
                        crate::error::escape(name)
                    ))
                })?;
            if !phases.contains(&phase) {
                phases.push(phase);
            }
        }
        match (all, phases.is_empty()) {
            (true, false) => Err(Error::invalid(
                "phase \"all\" cannot be combined with other phases",
            )),
            (_, true) => Ok(Phase::ALL.to_vec()),
            (false, false) => Ok(phases),
        }
    }
}

/// The outcome of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    /// It held.
    Passed,
    /// It did not hold, or could not be checked.
    Failed,
    /// Not run.
    Skipped,
    /// Not finished.
    Pending,
    /// Anything else.
    Other,
}

/// One test of a CTRF report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CtrfTest {
    /// The constraint path or check name.
    pub name: String,
    /// Outcome.
    pub status: TestStatus,
    /// Milliseconds.
    pub duration: u64,
    /// `readiness`, or the phase.
    pub suite: Vec<String>,
    /// Why it failed or was skipped; what was compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Output lines of a check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<Vec<String>>,
}

/// The tool that wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CtrfTool {
    /// Always `aicr`.
    pub name: String,
    /// The CLI version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Counts of a report's tests by status, and its time span.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CtrfSummary {
    /// All tests.
    pub tests: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Pending.
    pub pending: usize,
    /// Other.
    pub other: usize,
    /// Start, in milliseconds since the epoch.
    pub start: u64,
    /// Stop, in milliseconds since the epoch.
    pub stop: u64,
}

/// `results` of a CTRF report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CtrfResults {
    /// Who wrote it.
    pub tool: CtrfTool,
    /// Counts.
    pub summary: CtrfSummary,
    /// Readiness constraints first, then phase checks in phase order.
    pub tests: Vec<CtrfTest>,
}

/// A validation report in the Common Test Report Format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CtrfReport {
    /// Always `CTRF`.
    pub report_format: String,
    /// Always `0.0.1`.
    pub spec_version: String,
    /// When the snapshot was taken (its `metadata.timestamp`), so the same
    /// recipe and snapshot always give the same report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Always `aicr`.
    pub generated_by: String,
    /// Tests and counts.
    pub results: CtrfResults,
}

impl CtrfReport {
    /// Whether any test failed.
    pub fn has_failures(&self) -> bool {
        self.results.summary.failed > 0
    }
}

/// What to validate beyond the readiness constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Phases reported as skipped because no cluster is used
    /// (`--no-cluster`); empty for readiness alone.
    pub skipped_phases: Vec<Phase>,
    /// The tool version written into the report.
    pub tool_version: String,
}

/// Evaluates `recipe`'s top-level constraints against `snapshot` and
/// lists every validator of the skipped phases; a constraint path that
/// names no known reading, or an expression that does not parse, is
/// INVALID_REQUEST.
pub fn validate(
    recipe: &RecipeResult,
    snapshot: &Snapshot,
    validators: Option<&ValidatorCatalog>,
    options: &ValidateOptions,
) -> Result<CtrfReport> {
    let mut tests = Vec::new();
    for c in &recipe.constraints {
        if let Err(e) = crate::measurement::check_path(&c.name) {
            let hint = e
                .suggestion
                .map(|s| format!(" (did you mean {s:?}?)"))
                .unwrap_or_default();
            return Err(Error::invalid(format!(
                "constraint {:?}: {}{hint}",
                crate::error::escape(&c.name),
                e.message
            )));
        }
        let expression = Expression::parse(&c.value)
            .map_err(|e| e.context(format!("constraint {:?}", crate::error::escape(&c.name))))?;
        let (status, message) = match snapshot.reading(&c.name) {
            Err(e) if e.code() == Code::NotFound => (
                TestStatus::Failed,
                format!("expected {}, but {}", c.value, e.message()),
            ),
            Err(e) => return Err(e),
            Ok(reading) => {
                let actual = reading.to_string();
                match expression.evaluate(&actual) {
                    Ok(true) => (
                        TestStatus::Passed,
                        format!("expected {}, got {actual}", c.value),
                    ),
                    Ok(false) => (
                        TestStatus::Failed,
                        format!("expected {}, got {actual}", c.value),
                    ),
                    Err(e) => (
                        TestStatus::Failed,
                        format!("expected {}, got {actual}: {}", c.value, e.message()),
                    ),
                }
            }
        };
        tests.push(CtrfTest {
            name: c.name.clone(),
            status,
            duration: 0,
            suite: vec!["readiness".into()],
            message: Some(message),
            stdout: None,
        });
    }
    for phase in &options.skipped_phases {
        let entries = validators
            .map(|v| v.validators.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|v| v.phase == phase.as_str());
        for v in entries {
            tests.push(CtrfTest {
                name: v.name.clone(),
                status: TestStatus::Skipped,
                duration: 0,
                suite: vec![phase.as_str().into()],
                message: Some("skipped - no-cluster mode".into()),
                stdout: None,
            });
        }
    }
    let timestamp = snapshot.metadata.get("timestamp").cloned();
    let millis = timestamp.as_deref().and_then(epoch_millis).unwrap_or(0);
    let count = |s| tests.iter().filter(|t| t.status == s).count();
    let summary = CtrfSummary {
        tests: tests.len(),
        passed: count(TestStatus::Passed),
        failed: count(TestStatus::Failed),
        skipped: count(TestStatus::Skipped),
        pending: count(TestStatus::Pending),
        other: count(TestStatus::Other),
        start: millis,
        stop: millis,
    };
    Ok(CtrfReport {
        report_format: "CTRF".into(),
        spec_version: "0.0.1".into(),
        timestamp: timestamp.filter(|_| millis > 0),
        generated_by: "aicr".into(),
        results: CtrfResults {
            tool: CtrfTool {
                name: "aicr".into(),
                version: Some(options.tool_version.clone()).filter(|v| !v.is_empty()),
            },
            summary,
            tests,
        },
    })
}

/// Milliseconds since the epoch of an RFC 3339 UTC time with second
/// precision (`2026-01-30T12:00:00Z`, as snapshots record it).
fn epoch_millis(text: &str) -> Option<u64> {
    crate::time::parse_rfc3339_seconds(text).map(|s| s * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases(v: &[&str]) -> Result<Vec<Phase>> {
        Phase::parse_list(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn phase_lists_follow_the_reference() {
        assert_eq!(phases(&[]).unwrap(), Phase::ALL);
        assert_eq!(phases(&["all", "all"]).unwrap(), Phase::ALL);
        assert_eq!(
            phases(&["conformance", "deployment", "conformance"]).unwrap(),
            [Phase::Conformance, Phase::Deployment]
        );
        assert!(
            phases(&["all", "deployment"])
                .unwrap_err()
                .message()
                .contains("cannot be combined")
        );
        assert!(
            phases(&["all", "garbage"])
                .unwrap_err()
                .message()
                .contains("invalid phase")
        );
        assert!(phases(&["readiness"]).is_err());
    }

    #[test]
    fn epoch_of_snapshot_timestamps() {
        assert_eq!(epoch_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            epoch_millis("2026-01-30T12:00:00Z"),
            Some(1_769_774_400_000)
        );
        assert_eq!(epoch_millis("2000-03-01T00:00:01Z"), Some(951_868_801_000));
        assert_eq!(epoch_millis("2026-01-30 12:00:00"), None);
        assert_eq!(epoch_millis("2026-13-30T12:00:00Z"), None);
    }
}
