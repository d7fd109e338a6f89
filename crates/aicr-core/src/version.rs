//! Versions as the reference compares them: 1 to 3 numeric parts, an
//! optional leading `v`, provider extras (`-gke.1337000`, `-eks-3025e55`)
//! kept but never compared, and precision-aware ordering (`1.30` equals
//! `1.30.7` under [`Version::compare`]). No SemVer crate matches this.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    parts: [u64; 3],
    precision: usize,
    extras: String,
}

impl Version {
    /// Parses `v1.2.3-extra`, `1.2`, `1`.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid(format!("invalid version {input:?}: {why}"));
        let text = input.strip_prefix('v').unwrap_or(input);
        let bytes = text.as_bytes();
        let split = (1..bytes.len())
            .find(|&i| matches!(bytes[i], b'-' | b'+') && bytes[i - 1].is_ascii_digit())
            .unwrap_or(bytes.len());
        let (core, extras) = text.split_at(split);
        let pieces: Vec<&str> = core.split('.').collect();
        if pieces.len() > 3 {
            return Err(bad("more than three parts"));
        }
        let mut parts = [0u64; 3];
        for (slot, piece) in parts.iter_mut().zip(&pieces) {
            if piece.is_empty() || !piece.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("parts must be non-negative integers"));
            }
            *slot = piece.parse().map_err(|_| bad("part too large"))?;
        }
        Ok(Version {
            parts,
            precision: pieces.len(),
            extras: extras.to_string(),
        })
    }

    /// Major, minor, patch (missing parts are 0).
    pub fn parts(&self) -> [u64; 3] {
        self.parts
    }

    /// How many parts were written.
    pub fn precision(&self) -> usize {
        self.precision
    }

    /// Text after the numbers (`-gke.1337000`), never compared.
    pub fn extras(&self) -> &str {
        &self.extras
    }

    /// Orders up to the smaller precision of the two sides.
    pub fn compare(&self, other: &Version) -> Ordering {
        let n = self.precision.min(other.precision);
        self.parts[..n].cmp(&other.parts[..n])
    }

    /// Major, minor and patch all equal, whatever the precision.
    pub fn equals(&self, other: &Version) -> bool {
        self.parts == other.parts
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.parts[..self.precision]
            .iter()
            .map(u64::to_string)
            .collect();
        f.write_str(&shown.join("."))
    }
}

/// Comparison operator of a constraint expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `!=`
    Ne,
    /// `==`
    Eq,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// No operator: case-sensitive string equality.
    Exact,
}

/// A constraint value such as `>= 1.32.4` or `ubuntu`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    /// The operator.
    pub operator: Operator,
    /// The operand, trimmed.
    pub operand: String,
    /// Whether the comparison is between versions.
    pub is_version: bool,
}

impl Expression {
    /// Parses an expression; operators are tried longest first.
    pub fn parse(input: &str) -> Result<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(Error::invalid("empty constraint expression"));
        }
        let ops = [
            (">=", Operator::Ge),
            ("<=", Operator::Le),
            ("!=", Operator::Ne),
            ("==", Operator::Eq),
            (">", Operator::Gt),
            ("<", Operator::Lt),
        ];
        let (operator, operand) = ops
            .iter()
            .find_map(|(p, op)| text.strip_prefix(p).map(|rest| (*op, rest.trim())))
            .unwrap_or((Operator::Exact, text));
        if operand.is_empty() {
            return Err(Error::invalid(format!(
                "constraint expression {input:?} has no operand"
            )));
        }
        let looks_like_version = {
            let t = operand.strip_prefix('v').unwrap_or(operand);
            t.contains('.') && t.bytes().any(|b| b.is_ascii_digit())
        };
        let is_version = match operator {
            Operator::Ge | Operator::Le | Operator::Gt | Operator::Lt => true,
            Operator::Eq | Operator::Ne | Operator::Exact => looks_like_version,
        };
        Ok(Expression {
            operator,
            operand: operand.to_string(),
            is_version,
        })
    }

    /// Evaluates against a measured value.
    pub fn evaluate(&self, actual: &str) -> Result<bool> {
        let actual = actual.trim();
        let both = || -> Option<(Version, Version)> {
            Some((
                Version::parse(actual).ok()?,
                Version::parse(&self.operand).ok()?,
            ))
        };
        Ok(match self.operator {
            Operator::Exact => actual == self.operand,
            Operator::Eq | Operator::Ne => {
                let equal = match (self.is_version, both()) {
                    (true, Some((a, e))) => a.equals(&e),
                    _ => actual == self.operand,
                };
                equal == (self.operator == Operator::Eq)
            }
            ordering => {
                let expected = Version::parse(&self.operand)
                    .map_err(|e| e.context("cannot parse expected version"))?;
                let got =
                    Version::parse(actual).map_err(|e| e.context("cannot parse actual version"))?;
                let cmp = got.compare(&expected);
                match ordering {
                    Operator::Ge => cmp != Ordering::Less,
                    Operator::Le => cmp != Ordering::Greater,
                    Operator::Gt => cmp == Ordering::Greater,
                    _ => cmp == Ordering::Less,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_examples() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(v("1.30").compare(&v("1.30.7")), Ordering::Equal);
        assert!(!v("1.30").equals(&v("1.30.5")));
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Version::parse("V1.2").is_err());
        let gke = v("v1.28.0-gke.1337000");
        assert_eq!((gke.parts(), gke.extras()), ([1, 28, 0], "-gke.1337000"));
        assert_eq!(v("6.8.0-1028-aws").to_string(), "6.8.0");
    }

    #[test]
    fn expressions_parse_like_the_reference() {
        let e = Expression::parse(">=1.30").unwrap();
        assert_eq!((e.operator, e.operand.as_str()), (Operator::Ge, "1.30"));
        let e = Expression::parse("=1.0").unwrap();
        assert_eq!((e.operator, e.operand.as_str()), (Operator::Exact, "=1.0"));
        assert!(!Expression::parse("== ubuntu").unwrap().is_version);
        assert!(Expression::parse(">= ").is_err());
        assert!(
            Expression::parse("24.04")
                .unwrap()
                .evaluate("24.04")
                .unwrap()
        );
        assert!(
            !Expression::parse("24.04")
                .unwrap()
                .evaluate("24.4")
                .unwrap()
        );
        assert!(
            !Expression::parse(">= 1.34")
                .unwrap()
                .evaluate("v1.33.5-eks-abc")
                .unwrap()
        );
        assert!(
            Expression::parse(">= 1.34")
                .unwrap()
                .evaluate("v1.34.0-gke.1")
                .unwrap()
        );
    }

    fn version() -> impl Strategy<Value = (Vec<u64>, String)> {
        (
            prop::collection::vec(0u64..50, 1..=3),
            prop::option::of("-[a-z]{1,4}\\.[0-9]{1,4}"),
        )
            .prop_map(|(parts, extra)| (parts, extra.unwrap_or_default()))
    }

    fn text((parts, extra): &(Vec<u64>, String)) -> String {
        let nums: Vec<String> = parts.iter().map(u64::to_string).collect();
        format!("v{}{extra}", nums.join("."))
    }

    proptest! {
        #[test]
        fn parse_round_trips_numbers(v in version()) {
            let parsed = Version::parse(&text(&v)).unwrap();
            prop_assert_eq!(parsed.precision(), v.0.len());
            prop_assert_eq!(parsed.extras(), v.1.as_str());
        }

        #[test]
        fn compare_is_antisymmetric(a in version(), b in version()) {
            let (x, y) = (Version::parse(&text(&a)).unwrap(), Version::parse(&text(&b)).unwrap());
            prop_assert_eq!(x.compare(&y), y.compare(&x).reverse());
        }

        #[test]
        fn extras_never_change_order(a in version(), b in version()) {
            let x = Version::parse(&text(&a)).unwrap();
            let plain = Version::parse(&text(&(a.0.clone(), String::new()))).unwrap();
            let y = Version::parse(&text(&b)).unwrap();
            prop_assert_eq!(x.compare(&y), plain.compare(&y));
        }

        #[test]
        fn ge_and_lt_are_complements(a in version(), b in version()) {
            let ge = Expression::parse(&format!(">= {}", text(&b))).unwrap();
            let lt = Expression::parse(&format!("< {}", text(&b))).unwrap();
            prop_assert_ne!(ge.evaluate(&text(&a)).unwrap(), lt.evaluate(&text(&a)).unwrap());
        }

        #[test]
        fn lower_precision_matches_any_patch(major in 0u64..50, minor in 0u64..50, patch in 0u64..50) {
            let short = Version::parse(&format!("{major}.{minor}")).unwrap();
            let long = Version::parse(&format!("{major}.{minor}.{patch}")).unwrap();
            prop_assert_eq!(short.compare(&long), Ordering::Equal);
        }
    }
}
