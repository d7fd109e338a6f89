//! Integration tests of aicr-bundle, one module per capability.

mod argocd_helm;
mod determinism;
mod support;
mod write;
