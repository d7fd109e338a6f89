//! Trust levels of a verified bundle and the policy `aicr verify` checks
//! them against (`--min-trust-level`, `--require-creator`,
//! `--cli-version-constraint`), as the reference defines them.

use serde::Serialize;

use aicr_core::error::{Error, Result, escape};
use aicr_core::version::Expression;

use crate::verify::VerifyReport;

/// How far a bundle's provenance was shown, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    /// Checksums missing or failed, or an attestation that failed.
    Unknown,
    /// Checksums match; no attestation was checked.
    Unverified,
    /// Checksums match and the bundle attestation verifies with the
    /// given public key.
    Attested,
    /// The reference's full chain: also the binary attestation, signed
    /// keyless by NVIDIA's CI. Not reachable here (no keyless
    /// verification), so a report never holds it.
    Verified,
}

impl TrustLevel {
    /// Every level, lowest first.
    pub const ALL: [TrustLevel; 4] = [
        TrustLevel::Unknown,
        TrustLevel::Unverified,
        TrustLevel::Attested,
        TrustLevel::Verified,
    ];

    /// The level's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::Unknown => "unknown",
            TrustLevel::Unverified => "unverified",
            TrustLevel::Attested => "attested",
            TrustLevel::Verified => "verified",
        }
    }

    /// Parses a level name (case and surrounding space ignored).
    pub fn parse(text: &str) -> Result<TrustLevel> {
        let want = text.trim().to_ascii_lowercase();
        TrustLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == want)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "invalid trust level {:?}: must be one of max, verified, attested, unverified, unknown",
                    escape(text)
                ))
            })
    }
}

impl std::fmt::Display for TrustLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a verified bundle must reach; parsed before verifying, so a bad
/// flag value fails first (INVALID_REQUEST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The minimum level; `None` is `max`: the highest this bundle can
    /// reach (see [`VerifyReport::max_achievable`]).
    pub min_trust_level: Option<TrustLevel>,
    /// The creator the attestation must name (a key's hint here).
    pub require_creator: Option<String>,
    /// The tool version the attestation must record: the expression as
    /// normalised (`>= 0.8.0` for `0.8.0`) and parsed.
    pub version_constraint: Option<(String, Expression)>,
}

impl Policy {
    /// Parses the flags: `max` or a level; a creator; a version
    /// constraint, where a bare version means `>= version`.
    pub fn parse(
        min_trust_level: &str,
        require_creator: Option<&str>,
        version_constraint: Option<&str>,
    ) -> Result<Policy> {
        let min = match min_trust_level.trim() {
            "" | "max" => None,
            other => Some(TrustLevel::parse(other)?),
        };
        let constraint = match version_constraint.map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let starts_with_operator = [">=", "<=", "!=", "==", ">", "<"]
                    .iter()
                    .any(|p| text.starts_with(p));
                let expr = if starts_with_operator {
                    text.to_string()
                } else {
                    format!(">= {text}")
                };
                let parsed = Expression::parse(&expr)
                    .map_err(|e| e.context("invalid --cli-version-constraint"))?;
                Some((expr, parsed))
            }
        };
        Ok(Policy {
            min_trust_level: min,
            require_creator: require_creator
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            version_constraint: constraint,
        })
    }
}

impl VerifyReport {
    /// The highest level this bundle could reach: `unknown` when its
    /// checksums fail, `unverified` without an attestation, else
    /// `attested` (the most a key can show; the reference's `verified`
    /// needs keyless verification).
    pub fn max_achievable(&self) -> TrustLevel {
        if !self.checksums_passed {
            TrustLevel::Unknown
        } else if !self.has_attestation {
            TrustLevel::Unverified
        } else {
            TrustLevel::Attested
        }
    }

    /// Why the report misses `policy`, or `None` when it meets it. A
    /// version that cannot be compared is INVALID_REQUEST.
    pub fn check_policy(&self, policy: &Policy) -> Result<Option<String>> {
        let level = self.trust_level;
        match policy.min_trust_level {
            None if level < self.max_achievable() => {
                return Ok(Some(format!(
                    "trust level {:?} does not meet maximum achievable {:?} for this bundle",
                    level.as_str(),
                    self.max_achievable().as_str()
                )));
            }
            Some(min) if level < min => {
                return Ok(Some(format!(
                    "trust level {:?} does not meet minimum {:?}",
                    level.as_str(),
                    min.as_str()
                )));
            }
            _ => {}
        }
        if let Some(creator) = &policy.require_creator
            && self.bundle_creator != *creator
        {
            return Ok(Some(format!(
                "bundle creator {:?} does not match required {:?}",
                escape(&self.bundle_creator),
                escape(creator)
            )));
        }
        if let Some((text, expr)) = &policy.version_constraint {
            let Some(version) = &self.tool_version else {
                return Ok(Some(
                    "tool version not available in attestation (bundle may be unattested)".into(),
                ));
            };
            let passed = expr
                .evaluate(version)
                .map_err(|e| e.context("tool version evaluation failed"))?;
            if !passed {
                return Ok(Some(format!(
                    "tool version {:?} does not satisfy constraint {:?}",
                    escape(version),
                    escape(text)
                )));
            }
        }
        Ok(None)
    }
}
