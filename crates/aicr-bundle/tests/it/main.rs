//! Integration tests of aicr-bundle, one module per capability.

// Tests may write files, read the environment and spawn processes; the
// clippy.toml rules are for library code.
#![allow(clippy::disallowed_methods)]

mod argocd_helm;
mod bom;
mod corpus;
mod determinism;
mod gotmpl;
mod hostile;
mod support;
mod verify;
mod write;
