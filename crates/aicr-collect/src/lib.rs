//! `aicr-collect`: what a node reports, turned into snapshot measurements.
//!
//! Two halves. The sources are pure functions from source text (command
//! output, `/proc` files) or a directory given as a parameter to a
//! [`Subtype`](aicr_core::snapshot::Subtype), with exactly the keys and
//! reading types of the reference. The [`run`] module runs one
//! [`Collector`] per measurement type concurrently on tokio, each under a
//! deadline, fail-fast, and assembles the [`Snapshot`](aicr_core::snapshot::Snapshot)
//! with a `sources` section saying which sources were absent and why.
//!
//! - [`gpu`]: `nvidia-smi -q -x` → `smi`; PCI devices and `/proc/modules`
//!   → `hardware`.
//! - [`os`]: `/proc/cmdline` → `grub`, `/proc/modules` → `kmod`,
//!   `os-release` → `release`, `/proc/sys` → `sysctl`.
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

pub mod gpu;
pub mod os;
pub mod run;
mod source;

pub use run::{Collected, Collector, Host, Options, snapshot};
pub use source::{MAX_SOURCE_BYTES, read_text};
