//! `aicr-collect`: what a node reports, turned into snapshot measurements.
//!
//! For now this is the collectors' pure half: synchronous functions from
//! source text (command output, `/proc` files) or a directory given as a
//! parameter to a [`Subtype`](aicr_core::snapshot::Subtype), with exactly
//! the keys and reading types of the reference. Running commands, time
//! limits and the concurrent collector runner come next and only call
//! these.
//!
//! - [`gpu`]: `nvidia-smi -q -x` → `smi`; PCI devices and `/proc/modules`
//!   → `hardware`.
//! - [`os`]: `/proc/cmdline` → `grub`, `/proc/modules` → `kmod`,
//!   `os-release` → `release`, `/proc/sys` → `sysctl`.
//!
//! - [`cluster`]: everything that talks to the Kubernetes API server:
//!   client discovery, the collectors' reads, snapshots and recipes in
//!   ConfigMaps, and the snapshot agent Job.
//!
//! Every file is read through [`read_text`] (regular files only, 1 MiB at
//! most, UTF-8). Failures are [`aicr_core::Error`]s: unlike the
//! reference, which degrades a broken source to an empty reading, a caller
//! here sees the failure and decides.
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
pub mod gpu;
pub mod os;
mod source;

pub use source::{MAX_SOURCE_BYTES, read_text};
