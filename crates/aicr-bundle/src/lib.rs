//! `aicr-bundle`: output adapters. Pure functions from a recipe and
//! options to a file tree for Helm, Helmfile, Argo CD (plain and as a Helm
//! chart) and Flux. Nothing here deploys anything; writing the tree to disk
//! (atomically) and checksums are here too.

pub mod gotmpl;
pub mod options;
pub mod prepare;

pub use options::{BundleOptions, Deployer, DynamicPath, Toleration};
pub use prepare::{Component, Manifest, Prepared, prepare};
pub mod tree;

pub use tree::{FileTree, GeneratedFile};
