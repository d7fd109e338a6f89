//! The `Snapshot` document: what collectors measured on a node and its
//! cluster, as typed measurements whose readings constraint paths
//! (`Type.subtype.key`) address. Read strictly: `kind` and `apiVersion`
//! must be the Snapshot's, unknown fields are errors and a reading is a
//! scalar, so a YAML file that is not a snapshot never reads as an empty
//! one.
//!
//! Writing follows the reference: YAML with keys sorted recursively, JSON
//! in declared field order. Measurement order is kept as collected.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Code, Error, Result};
use crate::header::{ApiVersion, Document, Kind};

/// A `Snapshot` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Snapshot {
    /// Always `Snapshot`.
    pub kind: Kind<Snapshot>,
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<Snapshot>,
    /// `timestamp`, `version`, `source-node`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Cluster identity derived from the measurements when the snapshot
    /// was taken. Advisory: consumers derive it again from the
    /// measurements ([`crate::fingerprint::Fingerprint::from_measurements`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<serde_json::Value>,
    /// One measurement per type, in collection order.
    #[serde(default)]
    pub measurements: Vec<Measurement>,
    /// What became of each source the collectors read: collected, or
    /// absent and why. aicr's own section (the reference leaves out what
    /// it could not read without saying so); snapshots the reference
    /// wrote have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceStatus>,
}

/// The outcome of reading one source (`GPU/smi`, `OS/sysctl`, `K8s`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceStatus {
    /// `<Type>` or `<Type>/<subtype>`: what was read.
    pub source: String,
    /// Whether it was there to read.
    pub status: SourceState,
    /// Why an absent source is absent (nvidia-smi not on `PATH`, no
    /// kubeconfig, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl SourceStatus {
    /// A source that was read.
    pub fn collected(source: impl Into<String>) -> Self {
        SourceStatus {
            source: source.into(),
            status: SourceState::Collected,
            reason: None,
        }
    }

    /// A source that is not there, and why. Not a failure: its readings
    /// keep the reference's shape for a missing source.
    pub fn absent(source: impl Into<String>, reason: impl Into<String>) -> Self {
        SourceStatus {
            source: source.into(),
            status: SourceState::Absent,
            reason: Some(reason.into()),
        }
    }
}

/// Whether a source was there to read. A source that was there but could
/// not be read fails the snapshot instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    /// Read, and its readings are in the measurements.
    Collected,
    /// Not present on this node or cluster.
    Absent,
}

impl Document for Snapshot {
    const KIND: &'static str = "Snapshot";
}

/// What a snapshot measures.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum MeasurementType {
    /// Kubernetes: server, images, ClusterPolicy, node.
    K8s,
    /// GPU: hardware probe and nvidia-smi.
    #[serde(rename = "GPU")]
    Gpu,
    /// OS: grub, sysctl, kmod, release.
    #[serde(rename = "OS")]
    Os,
    /// systemd units.
    SystemD,
    /// Node taints and labels across the cluster.
    NodeTopology,
}

impl MeasurementType {
    /// Every type, in the order the reference lists them.
    pub const ALL: [MeasurementType; 5] = [
        MeasurementType::K8s,
        MeasurementType::Gpu,
        MeasurementType::Os,
        MeasurementType::SystemD,
        MeasurementType::NodeTopology,
    ];

    /// The name as written in snapshots and constraint paths.
    pub fn as_str(self) -> &'static str {
        match self {
            MeasurementType::K8s => "K8s",
            MeasurementType::Gpu => "GPU",
            MeasurementType::Os => "OS",
            MeasurementType::SystemD => "SystemD",
            MeasurementType::NodeTopology => "NodeTopology",
        }
    }

    /// Parses a type name; case-sensitive, as in the reference.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for MeasurementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The readings of one type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// What was measured.
    #[serde(rename = "type")]
    pub kind: MeasurementType,
    /// Groups of readings, in collector order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtypes: Vec<Subtype>,
}

/// A named group of readings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subtype {
    /// Name (`server`, `smi`, `release`, `containerd.service`, ...).
    #[serde(rename = "subtype", default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Readings by key, sorted.
    #[serde(default)]
    pub data: BTreeMap<String, Reading>,
    /// Free-form context; no collector sets it, but it survives a round trip.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, String>,
}

/// One measured scalar. Written bare (no wrapper); compared and shown by
/// its text, which follows Go's `%v` as the reference prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// `true` / `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer beyond `i64`.
    Uint(u64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(String),
}

impl Reading {
    /// The reading as an integer: integers, and floats without a fraction
    /// (JSON numbers read back as floats in the reference).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reading::Int(n) => Some(*n),
            Reading::Uint(n) => i64::try_from(*n).ok(),
            Reading::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            _ => None,
        }
    }
}

impl From<&str> for Reading {
    fn from(text: &str) -> Self {
        Reading::Str(text.to_string())
    }
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reading::Bool(b) => write!(f, "{b}"),
            Reading::Int(n) => write!(f, "{n}"),
            Reading::Uint(n) => write!(f, "{n}"),
            Reading::Float(x) => f.write_str(&go_float(*x)),
            Reading::Str(s) => f.write_str(s),
        }
    }
}

/// A float as Go's `%v` prints it: the shortest digits that read back,
/// with an exponent of at least two digits when the decimal exponent is
/// below -4 or at least 6 (`1e+06`, `1.5e-05`), else plain (`123456`,
/// `0.0001`). Go decides on a fixed 6 for the shortest form (`strconv`'s
/// `'g'` with precision -1), not on the digit count: `1234567` prints
/// `1.234567e+06`.
pub fn go_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let text = format!("{x:e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        // Rust's Display is the shortest round-trip text without an
        // exponent, which is Go's `%f` at the shortest precision.
        return format!("{x}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Reading::Bool(b) => serializer.serialize_bool(*b),
            Reading::Int(n) => serializer.serialize_i64(*n),
            Reading::Uint(n) => serializer.serialize_u64(*n),
            Reading::Float(x) => serializer.serialize_f64(*x),
            Reading::Str(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Reading {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Scalar;
        impl<'de> serde::de::Visitor<'de> for Scalar {
            type Value = Reading;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar reading (text, number or boolean)")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Reading, E> {
                Ok(Reading::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Reading, E> {
                Ok(Reading::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Reading, E> {
                Ok(i64::try_from(v).map_or(Reading::Uint(v), Reading::Int))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Reading, E> {
                Ok(Reading::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Reading, E> {
                Ok(Reading::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Reading, E> {
                Ok(Reading::Str(v))
            }
            // The reference reads a null as the text `<nil>`.
            fn visit_unit<E>(self) -> std::result::Result<Reading, E> {
                Ok(Reading::Str("<nil>".into()))
            }
            fn visit_none<E>(self) -> std::result::Result<Reading, E> {
                Ok(Reading::Str("<nil>".into()))
            }
        }
        deserializer.deserialize_any(Scalar)
    }
}

impl JsonSchema for Reading {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Reading".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "One measured scalar.",
            "type": ["string", "integer", "number", "boolean", "null"]
        })
    }
}

/// Largest snapshot document read (the reference's cap).
pub const MAX_SNAPSHOT_BYTES: u64 = 1024 * 1024;

impl Snapshot {
    /// A new, empty snapshot.
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// Parses a snapshot read from `origin`. YAML and JSON are both read
    /// (JSON is YAML); a table, which the reference cannot read back
    /// either, is refused by its extension.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self> {
        let lower = origin.to_ascii_lowercase();
        if lower.ends_with(".table") || lower.ends_with(".txt") {
            return Err(Error::invalid(format!(
                "{origin}: a snapshot in table format cannot be read back; write it with --format yaml or json"
            )));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::invalid(format!(
                "{origin}: empty document, expected a Snapshot"
            )));
        }
        crate::yaml::parse(bytes, origin).map_err(|e| {
            // Another kind of document is named as such, not by its first
            // field a Snapshot lacks.
            let kind = crate::yaml::parse::<serde_json::Value>(bytes, origin)
                .ok()
                .and_then(|doc| doc.get("kind")?.as_str().map(String::from));
            match Kind::<Snapshot>::check(kind.as_deref()) {
                Err(wrong) if kind.is_some() => Error::invalid(format!("{origin}: {wrong}")),
                _ => e,
            }
        })
    }

    /// The first measurement of type `kind`.
    pub fn measurement(&self, kind: MeasurementType) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.kind == kind)
    }

    /// The reading at a constraint path `Type.subtype.key` (split on the
    /// first two dots, so the key may hold dots). A path that is not of
    /// that form or names an unknown type is INVALID_REQUEST; a level the
    /// snapshot lacks is NOT_FOUND.
    pub fn reading(&self, path: &str) -> Result<&Reading> {
        let Some((t, s, k)) = crate::measurement::split_path(path) else {
            return Err(Error::invalid(format!(
                "constraint path {path:?} must have the form Type.subtype.key"
            )));
        };
        let kind = MeasurementType::parse(t).ok_or_else(|| {
            Error::invalid(format!(
                "unknown measurement type {t:?} in {path:?} (valid: K8s, GPU, OS, SystemD, NodeTopology)"
            ))
        })?;
        let missing = |what: String| Error::new(Code::NotFound, what);
        let m = self
            .measurement(kind)
            .ok_or_else(|| missing(format!("the snapshot has no {t} measurement")))?;
        let sub = m.subtypes.iter().find(|x| x.name == s).ok_or_else(|| {
            missing(format!(
                "the snapshot's {t} measurement has no subtype {s:?}"
            ))
        })?;
        sub.data
            .get(k)
            .ok_or_else(|| missing(format!("the snapshot has no reading {k:?} in {t}.{s}")))
    }
}

impl Measurement {
    /// The first subtype named `name`.
    pub fn subtype(&self, name: &str) -> Option<&Subtype> {
        self.subtypes.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  version: v1\nmeasurements:\n  - type: K8s\n    subtypes:\n      - subtype: server\n        data:\n          version: v1.33.5-eks-3025e55\n  - type: OS\n    subtypes:\n      - subtype: sysctl\n        data:\n          /proc/sys/kernel/osrelease: 6.8.0\n          /proc/sys/vm/swappiness: \"60\"\n      - subtype: kmod\n        data:\n          nvidia: true\n  - type: GPU\n    subtypes:\n      - subtype: smi\n        data:\n          gpu-count: 8\n          missing: null\n";

    #[test]
    fn readings_are_found_by_path_with_dots_in_the_key() {
        let s = Snapshot::parse(SAMPLE.as_bytes(), "s.yaml").unwrap();
        let text = |p| s.reading(p).unwrap().to_string();
        assert_eq!(text("K8s.server.version"), "v1.33.5-eks-3025e55");
        assert_eq!(text("OS.sysctl./proc/sys/kernel/osrelease"), "6.8.0");
        assert_eq!(text("OS.kmod.nvidia"), "true");
        assert_eq!(text("GPU.smi.gpu-count"), "8");
        assert_eq!(text("GPU.smi.missing"), "<nil>");
        assert_eq!(s.reading("GPU.smi.gpu-count").unwrap().as_int(), Some(8));
        assert_eq!(
            s.reading("K8s.node.provider").unwrap_err().code(),
            Code::NotFound
        );
        assert_eq!(
            s.reading("NodeTopology.summary.node-count")
                .unwrap_err()
                .code(),
            Code::NotFound
        );
        assert_eq!(
            s.reading("k8s.server.version").unwrap_err().code(),
            Code::InvalidRequest
        );
        assert_eq!(
            s.reading("K8s.server").unwrap_err().code(),
            Code::InvalidRequest
        );
    }

    #[test]
    fn anything_but_a_snapshot_is_refused() {
        for (doc, why) in [
            ("a: 1\n", "unknown field `a`"),
            (
                "apiVersion: aicr.nvidia.com/v1alpha1\nmeasurements: []\n",
                "kind",
            ),
            (
                "kind: RecipeResult\napiVersion: aicr.nvidia.com/v1alpha1\n",
                "kind is \"RecipeResult\"",
            ),
            ("kind: Snapshot\napiVersion: v2\n", "apiVersion is \"v2\""),
            (
                "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nextra: 1\n",
                "extra",
            ),
            (
                "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements:\n  - type: Gpu\n",
                "Gpu",
            ),
            (
                "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements:\n  - type: GPU\n    subtypes:\n      - subtype: smi\n        data:\n          x: [1, 2]\n",
                "scalar reading",
            ),
            ("   \n", "empty document"),
        ] {
            let err = Snapshot::parse(doc.as_bytes(), "s.yaml").unwrap_err();
            assert_eq!(err.code(), Code::InvalidRequest, "{doc}");
            assert!(err.message().contains(why), "{doc}: {}", err.message());
        }
        let err = Snapshot::parse(SAMPLE.as_bytes(), "s.table").unwrap_err();
        assert!(err.message().contains("table format"));
    }

    #[test]
    fn json_reads_like_yaml_and_writes_in_declared_order() {
        let yaml = Snapshot::parse(SAMPLE.as_bytes(), "s.yaml").unwrap();
        let json = serde_json::to_string(&yaml).unwrap();
        assert!(json.starts_with(
            r#"{"kind":"Snapshot","apiVersion":"aicr.nvidia.com/v1alpha1","metadata""#
        ));
        let back = Snapshot::parse(json.as_bytes(), "s.json").unwrap();
        assert_eq!(back, yaml);
    }

    #[test]
    fn floats_print_as_go_does() {
        for (x, text) in [
            (8.0, "8"),
            (2.75, "2.75"),
            (1e21, "1e+21"),
            (1e20, "1e+20"),
            (1e6, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (123_456.0, "123456"),
            (0.00001, "1e-05"),
            (0.0001, "0.0001"),
            (-2.5e-7, "-2.5e-07"),
            (0.0, "0"),
        ] {
            assert_eq!(Reading::Float(x).to_string(), text);
        }
        assert_eq!(Reading::Float(8.0).as_int(), Some(8));
        assert_eq!(Reading::Float(8.5).as_int(), None);
    }
}
