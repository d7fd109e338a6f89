//! `aicr-collect`: what a node reports, turned into snapshot measurements.
//!
//! Two halves. The sources are pure functions from source text (command
//! output, `/proc` files), a directory given as a parameter, or Kubernetes
//! objects already fetched, to a [`Subtype`](aicr_core::snapshot::Subtype)
//! with exactly the keys and reading types of the reference. The [`run`]
//! module runs one [`Collector`] per measurement type concurrently on
//! tokio, each under a deadline, fail-fast, and assembles the
//! [`Snapshot`](aicr_core::snapshot::Snapshot) with a `sources` section
//! saying which sources were absent and why.
//!
//! - [`gpu`]: `nvidia-smi -q -x` → `smi`; PCI devices and `/proc/modules`
//!   → `hardware`.
//! - [`os`]: `/proc/cmdline` → `grub`, `/proc/modules` → `kmod`,
//!   `os-release` → `release`, `/proc/sys` → `sysctl`.
//! - [`k8s`]: the version → `server`, pods → `image`, ClusterPolicy specs
//!   → `policy`, this node → `node`.
//! - [`topology`]: all nodes → `summary`, `taint`, `label`.
//! - [`talos`]: a Talos node's Node object → OS `release`, `extensions`
//!   and SystemD `containerd.service`, `kubelet.service`.
//! - [`systemd`]: the one collector here that does its own I/O, an async
//!   D-Bus conversation with systemd's private socket; a missing socket is
//!   [`Outcome::Absent`].
//!
//! - [`cluster`]: everything that talks to the Kubernetes API server:
//!   client discovery, the collectors' reads, snapshots and recipes in
//!   ConfigMaps, and the snapshot agent Job.
//!
//! Every file is read through [`read_text`] (regular files only, 1 MiB at
//! most, UTF-8). Failures are [`aicr_core::Error`]s: unlike the
//! reference, which degrades a broken source to an empty reading, a source
//! that is there but cannot be read fails the snapshot.
//!
//! ```
//! use aicr_core::snapshot::Reading;
//! use aicr_collect::{gpu, os};
//!
//! let xml = b"<nvidia_smi_log><driver_version>570.86.15</driver_version>\
//!             <cuda_version>12.8</cuda_version><gpu><product_name>NVIDIA H100 80GB HBM3\
//!             </product_name></gpu></nvidia_smi_log>";
//! let smi = gpu::parse_nvidia_smi(xml).unwrap();
//! assert_eq!(smi.name, "smi");
//! assert_eq!(smi.data["gpu-count"], Reading::Int(1));
//!
//! let grub = os::grub_subtype("BOOT_IMAGE=/boot/vmlinuz ro root=/dev/sda1\n");
//! assert_eq!(grub.data.keys().collect::<Vec<_>>(), ["BOOT_IMAGE", "ro"]);
//! ```

pub mod cluster;
mod cluster_collectors;
mod gofmt;
pub mod gpu;
pub mod k8s;
pub mod os;
pub mod run;
mod source;
pub mod systemd;
pub mod talos;
pub mod topology;

use std::collections::BTreeMap;

use aicr_core::snapshot::{Measurement, Reading, Subtype};

/// What a collector found: a measurement, or no source to measure.
///
/// A source that is not there (no systemd socket on this machine) is not
/// a failure: the runner records it as absent, with the reason, and goes
/// on. A source that is there but fails is an [`aicr_core::Error`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The source answered.
    Collected(Measurement),
    /// The source does not exist here; the text says which and where.
    Absent(String),
}

pub use run::{Collected, Collector, Host, Options, snapshot};
pub use source::{MAX_SOURCE_BYTES, read_text};

/// A subtype named `name` holding `data`.
pub(crate) fn subtype(name: &str, data: BTreeMap<String, Reading>) -> Subtype {
    Subtype {
        name: name.to_string(),
        data,
        context: BTreeMap::new(),
    }
}

/// Inserts a text reading unless the value is empty: the reference writes
/// most Kubernetes fields only when they are set.
pub(crate) fn put_text(data: &mut BTreeMap<String, Reading>, key: &str, value: &str) {
    if !value.is_empty() {
        data.insert(key.to_string(), Reading::from(value));
    }
}
