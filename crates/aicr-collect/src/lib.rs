//! `aicr-collect`: what a node reports, turned into snapshot measurements.
//!
//! For now this is the collectors' pure half: synchronous functions from
//! source text (`/proc` files) or a directory given as a
//! parameter to a [`Subtype`](aicr_core::snapshot::Subtype), with exactly
//! the keys and reading types of the reference. Running commands, time
//! limits and the concurrent collector runner come next and only call
//! these.
//!
//! - [`os`]: `/proc/cmdline` → `grub`, `/proc/modules` → `kmod`,
//!   `os-release` → `release`, `/proc/sys` → `sysctl`.
//!
//! Every file is read through [`read_text`] (regular files only, 1 MiB at
//! most, UTF-8). Failures are [`aicr_core::Error`]s: unlike the
//! reference, which degrades a broken source to an empty reading, a caller
//! here sees the failure and decides.
//!
//! ```
//! use aicr_collect::os;
//!
//! let grub = os::grub_subtype("BOOT_IMAGE=/boot/vmlinuz ro root=/dev/sda1\n");
//! assert_eq!(grub.data.keys().collect::<Vec<_>>(), ["BOOT_IMAGE", "ro"]);
//! ```

pub mod os;
mod source;

pub use source::{MAX_SOURCE_BYTES, read_text};
