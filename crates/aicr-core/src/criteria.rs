//! Query criteria: the five dimensions of an environment, their aliases, and
//! the asymmetric matching rule (an overlay wildcard matches any query
//! value; a query wildcard matches only an overlay wildcard).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{Error, Result};

macro_rules! dimension {
    (
        $(#[$doc:meta])* $name:ident, $label:literal,
        [$($variant:ident = $text:literal $(| $alias:literal)*),+ $(,)?]
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub enum $name {
            /// Unconstrained.
            #[default]
            Any,
            $(
                #[doc = $text]
                $variant,
            )+
        }

        impl $name {
            /// Every specific value, in the reference's alphabetical order.
            pub const VALUES: &'static [&'static str] = &[$($text),+];

            /// Parses a user value: trimmed, case-insensitive, with aliases;
            /// empty and `any` mean [`Self::Any`].
            pub fn parse(input: &str) -> Result<Self> {
                let lowered = input.trim().to_ascii_lowercase();
                match lowered.as_str() {
                    "" | "any" => Ok(Self::Any),
                    $($text $(| $alias)* => Ok(Self::$variant),)+
                    _ => Err(Error::invalid(format!(
                        concat!("invalid ", $label, " type: {}"), input.trim()
                    ))),
                }
            }

            /// The canonical text of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::Any => "any",
                    $(Self::$variant => $text,)+
                }
            }

            /// True unless this is the wildcard.
            pub fn is_specific(self) -> bool {
                self != Self::Any
            }

            /// Asymmetric match of an overlay value (`self`) against a query value.
            pub fn matches(self, query: Self) -> bool {
                self == Self::Any || self == query
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        // A string enum of the canonical values, `any` and the aliases the
        // parser accepts (it also ignores case, which a schema cannot say).
        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "description": concat!($label, " (case-insensitive; `any` or empty is a wildcard)"),
                    "type": "string",
                    "enum": ["any", $($text, $($alias,)*)+]
                })
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).map_err(|e| serde::de::Error::custom(format!(
                    "{} (valid: {})", e.message(), Self::VALUES.join(", ")
                )))
            }
        }
    };
}

dimension!(
    /// Kubernetes service.
    Service, "service",
    [Aks = "aks", Eks = "eks", Gke = "gke", Kind = "kind", Lke = "lke", Oke = "oke"]
);
// `self-managed`, `self` and `vanilla` are the reference's aliases of `any`.
impl Service {
    /// Parses a service, accepting the reference's aliases of `any`.
    pub fn parse_flag(input: &str) -> Result<Self> {
        match input.trim().to_ascii_lowercase().as_str() {
            "self-managed" | "self" | "vanilla" => Ok(Service::Any),
            _ => Service::parse(input),
        }
    }
}
dimension!(
    /// GPU accelerator.
    Accelerator, "accelerator",
    [A100 = "a100", B200 = "b200", Gb200 = "gb200", H100 = "h100", L40 = "l40", RtxPro6000 = "rtx-pro-6000"]
);
dimension!(
    /// Workload intent.
    Intent, "intent",
    [Inference = "inference", Training = "training"]
);
dimension!(
    /// Worker node operating system.
    Os, "os",
    [AmazonLinux = "amazonlinux" | "al2" | "al2023", Cos = "cos", Rhel = "rhel", Talos = "talos", Ubuntu = "ubuntu"]
);
dimension!(
    /// Platform or framework on top of the cluster.
    Platform, "platform",
    [Dynamo = "dynamo", Kubeflow = "kubeflow", Nim = "nim", Slurm = "slurm"]
);

/// A query, or an overlay's applicability rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Criteria {
    /// Kubernetes service.
    #[serde(default)]
    pub service: Service,
    /// GPU accelerator.
    #[serde(default)]
    pub accelerator: Accelerator,
    /// Workload intent.
    #[serde(default)]
    pub intent: Intent,
    /// Worker node OS.
    #[serde(default)]
    pub os: Os,
    /// Platform.
    #[serde(default)]
    pub platform: Platform,
    /// Number of GPU nodes; 0 means unspecified.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub nodes: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Criteria {
    /// Number of specific (non-wildcard) dimensions.
    pub fn specificity(&self) -> usize {
        [
            self.service.is_specific(),
            self.accelerator.is_specific(),
            self.intent.is_specific(),
            self.os.is_specific(),
            self.platform.is_specific(),
            self.nodes > 0,
        ]
        .into_iter()
        .filter(|b| *b)
        .count()
    }

    /// True when no dimension is specific: such a query is rejected by the CLI.
    pub fn is_empty(&self) -> bool {
        self.specificity() == 0
    }

    /// Asymmetric match: does this overlay rule apply to `query`?
    pub fn matches(&self, query: &Criteria) -> bool {
        self.service.matches(query.service)
            && self.accelerator.matches(query.accelerator)
            && self.intent.matches(query.intent)
            && self.os.matches(query.os)
            && self.platform.matches(query.platform)
            && (self.nodes == 0 || self.nodes == query.nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_case_normalise() {
        assert_eq!(Os::parse(" AL2023 ").unwrap(), Os::AmazonLinux);
        assert_eq!(Accelerator::parse("H100").unwrap(), Accelerator::H100);
        assert_eq!(Service::parse_flag("self-managed").unwrap(), Service::Any);
        assert_eq!(Service::parse("").unwrap(), Service::Any);
    }

    #[test]
    fn unknown_value_is_invalid_request() {
        let err = Service::parse("windows").unwrap_err();
        assert_eq!(
            err.to_string(),
            "[INVALID_REQUEST] invalid service type: windows"
        );
    }

    #[test]
    fn generic_query_never_matches_specific_overlay() {
        let overlay = Criteria {
            service: Service::Eks,
            accelerator: Accelerator::H100,
            ..Criteria::default()
        };
        let query = Criteria {
            service: Service::Eks,
            ..Criteria::default()
        };
        assert!(!overlay.matches(&query));
        let specific = Criteria {
            accelerator: Accelerator::H100,
            ..query
        };
        assert!(overlay.matches(&specific));
    }
}
