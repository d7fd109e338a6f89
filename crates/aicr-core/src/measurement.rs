//! The catalog of measurements a snapshot can hold, as constraint paths
//! `{Type}.{subtype}.{key}` address them. A constraint whose path names
//! nothing a collector produces would evaluate as "not found" forever, so
//! paths are checked against this table when a catalog is linted
//! (NVIDIA/aicr#1783: a typo'd `K8s.server.verison` silently passed).
//!
//! The table follows the collectors of the reference (see the snapshot
//! spec, section 2): fixed key sets where a collector writes fixed keys,
//! open sets where keys come from the cluster (image names, ClusterPolicy
//! fields, kernel modules, labels and taints).

use crate::suggest::closest;

/// Which keys a subtype holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Exactly these keys.
    Known(&'static [&'static str]),
    /// Keys come from the environment; any non-empty key is valid.
    Open,
    /// Keys are paths that start with this prefix.
    Prefix(&'static str),
}

/// One subtype of a measurement type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subtype {
    /// Subtype name as written in a snapshot.
    pub name: &'static str,
    /// Keys the subtype's data may hold.
    pub keys: Keys,
}

/// One measurement type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurementType {
    /// Type name as written in a snapshot and in constraint paths.
    pub name: &'static str,
    /// Its subtypes.
    pub subtypes: &'static [Subtype],
}

const OS_RELEASE_KEYS: &[&str] = &[
    "NAME",
    "ID",
    "ID_LIKE",
    "PRETTY_NAME",
    "CPE_NAME",
    "VARIANT",
    "VARIANT_ID",
    "VERSION",
    "VERSION_ID",
    "VERSION_CODENAME",
    "BUILD_ID",
    "IMAGE_ID",
    "IMAGE_VERSION",
    "HOME_URL",
    "DOCUMENTATION_URL",
    "SUPPORT_URL",
    "BUG_REPORT_URL",
    "PRIVACY_POLICY_URL",
    "SUPPORT_END",
    "LOGO",
    "ANSI_COLOR",
    "DEFAULT_HOSTNAME",
    "PLATFORM_ID",
    "UBUNTU_CODENAME",
    // Written by the Talos backend from the Node object.
    "Source",
    "KERNEL_VERSION",
    "OPERATING_SYSTEM",
];

/// Every measurement type, with its subtypes and keys.
pub const MEASUREMENTS: &[MeasurementType] = &[
    MeasurementType {
        name: "K8s",
        subtypes: &[
            Subtype {
                name: "server",
                keys: Keys::Known(&["version", "platform", "goVersion"]),
            },
            Subtype {
                name: "image",
                keys: Keys::Open,
            },
            Subtype {
                name: "policy",
                keys: Keys::Open,
            },
            Subtype {
                name: "node",
                keys: Keys::Known(&[
                    "source-node",
                    "provider",
                    "provider-id",
                    "container-runtime-id",
                    "container-runtime-name",
                    "container-runtime-version",
                    "kubelet-version",
                    "kernel-version",
                    "operating-system",
                    "os-image",
                ]),
            },
        ],
    },
    MeasurementType {
        name: "GPU",
        subtypes: &[
            Subtype {
                name: "hardware",
                keys: Keys::Known(&[
                    "gpu-present",
                    "gpu-count",
                    "driver-loaded",
                    "detection-source",
                ]),
            },
            Subtype {
                name: "smi",
                keys: Keys::Known(&[
                    "driver",
                    "cuda-version",
                    "gpu-count",
                    "gpu.model",
                    "gpu.product-architecture",
                    "gpu.display-mode",
                    "gpu.display-active",
                    "gpu.persistence-mode",
                    "gpu.addressing-mode",
                    "gpu.vbios-version",
                    "gpu.gsp-firmware-version",
                ]),
            },
        ],
    },
    MeasurementType {
        name: "OS",
        subtypes: &[
            Subtype {
                name: "grub",
                keys: Keys::Open,
            },
            Subtype {
                name: "sysctl",
                keys: Keys::Prefix("/proc/sys/"),
            },
            Subtype {
                name: "kmod",
                keys: Keys::Open,
            },
            Subtype {
                name: "release",
                keys: Keys::Known(OS_RELEASE_KEYS),
            },
            Subtype {
                name: "extensions",
                keys: Keys::Open,
            },
        ],
    },
    // SystemD subtypes are unit names (`containerd.service`); a path splits
    // on its first two dots, so none of them can be addressed. Kept in the
    // table so such a constraint gets that explanation, not "unknown type".
    MeasurementType {
        name: "SystemD",
        subtypes: &[],
    },
    MeasurementType {
        name: "NodeTopology",
        subtypes: &[
            Subtype {
                name: "summary",
                keys: Keys::Known(&["node-count", "taint-count", "label-count"]),
            },
            Subtype {
                name: "taint",
                keys: Keys::Open,
            },
            Subtype {
                name: "label",
                keys: Keys::Open,
            },
        ],
    },
];

/// Why a constraint path names no measurement, with the likely intended path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// What is wrong.
    pub message: String,
    /// The corrected full path, when a close match exists.
    pub suggestion: Option<String>,
}

/// Splits a path on its first two dots: `(type, subtype, key)`.
pub fn split_path(path: &str) -> Option<(&str, &str, &str)> {
    let mut parts = path.splitn(3, '.');
    let (t, s, k) = (parts.next()?, parts.next()?, parts.next()?);
    Some((t, s, k))
}

/// Checks that `path` addresses a reading some collector produces.
pub fn check_path(path: &str) -> Result<(), PathError> {
    let Some((t, s, k)) = split_path(path).filter(|(t, s, k)| ![t, s, k].contains(&&"")) else {
        return Err(PathError {
            message: format!(
                "constraint path {path:?} must have the form Type.subtype.key (Type one of {})",
                type_names().join(", ")
            ),
            suggestion: None,
        });
    };
    let Some(ty) = MEASUREMENTS.iter().find(|m| m.name == t) else {
        let suggestion = closest(t, type_names()).map(|c| format!("{c}.{s}.{k}"));
        return Err(PathError {
            message: format!(
                "unknown measurement type {t:?} in constraint path {path:?} (valid: {})",
                type_names().join(", ")
            ),
            suggestion,
        });
    };
    if ty.subtypes.is_empty() {
        return Err(PathError {
            message: format!(
                "{t} measurements cannot be addressed by a constraint path: their subtypes are unit names containing a dot"
            ),
            suggestion: None,
        });
    }
    let names = || ty.subtypes.iter().map(|s| s.name);
    let Some(sub) = ty.subtypes.iter().find(|x| x.name == s) else {
        let suggestion = closest(s, names()).map(|c| format!("{t}.{c}.{k}"));
        return Err(PathError {
            message: format!(
                "unknown subtype {s:?} of {t} in constraint path {path:?} (valid: {})",
                names().collect::<Vec<_>>().join(", ")
            ),
            suggestion,
        });
    };
    match sub.keys {
        Keys::Open => Ok(()),
        Keys::Prefix(prefix) if k.starts_with(prefix) => Ok(()),
        Keys::Prefix(prefix) => Err(PathError {
            message: format!("{t}.{s} keys are paths starting with {prefix}, got {k:?}"),
            suggestion: None,
        }),
        Keys::Known(keys) if keys.contains(&k) => Ok(()),
        Keys::Known(keys) => Err(PathError {
            message: format!(
                "unknown key {k:?} of {t}.{s} in constraint path {path:?} (valid: {})",
                keys.join(", ")
            ),
            suggestion: closest(k, keys.iter().copied()).map(|c| format!("{t}.{s}.{c}")),
        }),
    }
}

fn type_names() -> Vec<&'static str> {
    MEASUREMENTS.iter().map(|m| m.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_used_by_the_catalog_are_valid() {
        for p in [
            "K8s.server.version",
            "OS.release.ID",
            "OS.release.VERSION_ID",
            "OS.sysctl./proc/sys/kernel/osrelease",
            "GPU.smi.gpu.model",
            "K8s.image.pause",
            "NodeTopology.summary.node-count",
        ] {
            assert_eq!(check_path(p), Ok(()), "{p}");
        }
    }

    // NVIDIA/aicr#1783: a misspelt path must be an error with a suggestion.
    #[test]
    fn issue_1783_misspelt_constraint_path_is_rejected() {
        let err = check_path("K8s.server.verison").unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("K8s.server.version"));
        let err = check_path("k8s.server.version").unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("K8s.server.version"));
        let err = check_path("OS.relase.ID").unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("OS.release.ID"));
        assert!(check_path("K8s.server").is_err());
        assert!(check_path("SystemD.containerd.service.ActiveState").is_err());
    }
}
