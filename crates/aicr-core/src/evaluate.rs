//! One recipe constraint checked against a snapshot, as `aicr recipe
//! --snapshot` checks overlays before merging them.
//!
//! Unlike `validate`, nothing here is an error: a path that names no
//! reading, a reading the snapshot lacks, an expression that does not
//! parse or versions that cannot be compared all make the constraint fail,
//! and the text in [`Evaluation::error`] says why. Those texts follow the
//! reference's wording, because they are copied into the recipe's
//! `constraintWarnings`, which users compare between tools.

use crate::measurement::split_path;
use crate::model::Constraint;
use crate::snapshot::{MeasurementType, Snapshot};
use crate::version::Expression;

/// What evaluating one constraint gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Whether the constraint held.
    pub passed: bool,
    /// The reading compared, as text; empty when the snapshot lacks it.
    pub actual: String,
    /// Why the constraint could not be evaluated, if it could not.
    pub error: Option<String>,
}

impl Evaluation {
    fn error(actual: String, error: String) -> Self {
        Evaluation {
            passed: false,
            actual,
            error: Some(error),
        }
    }
}

/// Evaluates `constraint` (`Type.subtype.key` and an expression such as
/// `>= 6.8`) against the readings of `snapshot`.
pub fn evaluate(constraint: &Constraint, snapshot: &Snapshot) -> Evaluation {
    let actual = match reading(&constraint.name, snapshot) {
        Ok(text) => text,
        Err(why) => return Evaluation::error(String::new(), why),
    };
    let expression = match Expression::parse(&constraint.value) {
        Ok(e) => e,
        Err(_) => {
            let why = if constraint.value.trim().is_empty() {
                "constraint expression cannot be empty"
            } else {
                "constraint value cannot be empty after operator"
            };
            return Evaluation::error(
                actual,
                format!("[INVALID_REQUEST] invalid constraint expression: [INVALID_REQUEST] {why}"),
            );
        }
    };
    match expression.evaluate(&actual) {
        Ok(passed) => Evaluation {
            passed,
            actual,
            error: None,
        },
        Err(e) => Evaluation::error(actual, format!("[INTERNAL] evaluation failed: {e}")),
    }
}

/// The reading at `path` as text, or why there is none.
fn reading(path: &str, snapshot: &Snapshot) -> Result<String, String> {
    let invalid =
        |why: &str| format!("[INVALID_REQUEST] invalid constraint path: [INVALID_REQUEST] {why}");
    if path.is_empty() {
        return Err(invalid("constraint path cannot be empty"));
    }
    let Some((t, s, k)) = split_path(path) else {
        return Err(invalid(
            "invalid constraint path: expected format {Type}.{Subtype}.{Key}",
        ));
    };
    let Some(kind) = MeasurementType::parse(t) else {
        return Err(invalid("invalid measurement type in constraint path"));
    };
    let missing = |why: &str| format!("[NOT_FOUND] value not found in snapshot: [NOT_FOUND] {why}");
    let measurement = snapshot
        .measurement(kind)
        .ok_or_else(|| missing("measurement type not found in snapshot"))?;
    let subtype = measurement
        .subtype(s)
        .ok_or_else(|| missing("subtype not found in measurement"))?;
    subtype
        .data
        .get(k)
        .map(ToString::to_string)
        .ok_or_else(|| missing("key not found in subtype"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements:\n  - type: OS\n    subtypes:\n      - subtype: sysctl\n        data:\n          /proc/sys/kernel/osrelease: 5.15.0-91-generic\n      - subtype: release\n        data:\n          ID: ubuntu\n";

    fn check(name: &str, value: &str) -> Evaluation {
        let snapshot = Snapshot::parse(SNAPSHOT.as_bytes(), "s.yaml").unwrap();
        let constraint = Constraint {
            name: name.into(),
            value: value.into(),
            severity: None,
            remediation: String::new(),
            unit: String::new(),
        };
        evaluate(&constraint, &snapshot)
    }

    #[test]
    fn readings_are_compared_as_the_expression_says() {
        let held = check("OS.release.ID", "ubuntu");
        assert_eq!((held.passed, held.actual.as_str()), (true, "ubuntu"));
        assert_eq!(held.error, None);
        let failed = check("OS.sysctl./proc/sys/kernel/osrelease", ">= 6.8");
        assert_eq!(
            (failed.passed, failed.actual.as_str(), failed.error),
            (false, "5.15.0-91-generic", None)
        );
    }

    #[test]
    fn what_cannot_be_evaluated_fails_with_the_reference_wording() {
        for (name, value, actual, why) in [
            (
                "K8s.server.version",
                ">= 1.30",
                "",
                "[NOT_FOUND] value not found in snapshot: [NOT_FOUND] measurement type not found in snapshot",
            ),
            (
                "OS.grub.quiet",
                "",
                "",
                "[NOT_FOUND] value not found in snapshot: [NOT_FOUND] subtype not found in measurement",
            ),
            (
                "OS.release.VERSION_ID",
                "24.04",
                "",
                "[NOT_FOUND] value not found in snapshot: [NOT_FOUND] key not found in subtype",
            ),
            (
                "Os.release.ID",
                "ubuntu",
                "",
                "[INVALID_REQUEST] invalid constraint path: [INVALID_REQUEST] invalid measurement type in constraint path",
            ),
            (
                "OS.release.ID",
                ">=",
                "ubuntu",
                "[INVALID_REQUEST] invalid constraint expression: [INVALID_REQUEST] constraint value cannot be empty after operator",
            ),
            (
                "OS.release.ID",
                ">= 1.2",
                "ubuntu",
                "[INTERNAL] evaluation failed: [INVALID_REQUEST] cannot parse actual version",
            ),
        ] {
            let e = check(name, value);
            assert!(!e.passed, "{name}");
            assert_eq!(e.actual, actual, "{name}");
            let error = e.error.unwrap();
            assert!(error.starts_with(why), "{name}: {error}");
        }
    }
}
